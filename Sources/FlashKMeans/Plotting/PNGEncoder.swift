/// Writes an indexed-colour image as a PNG file (ISO/IEC 15948, the PNG specification),
/// with no compression library: the image data go into stored (uncompressed) deflate
/// blocks (RFC 1951, section 3.2.4) inside a zlib stream (RFC 1950).
///
/// A chart of a few colours at one byte per pixel is under a megabyte stored, so
/// compressing it is not worth a dependency.
public enum PNGEncoder {
    /// A colour of the palette.
    public struct Color: Sendable, Equatable {
        public var red: UInt8
        public var green: UInt8
        public var blue: UInt8

        public init(red: UInt8, green: UInt8, blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
        }
    }

    /// The PNG file of an image whose pixels index `palette`.
    ///
    /// - Parameters:
    ///   - width: Pixels per row, at least 1.
    ///   - height: Rows, at least 1.
    ///   - palette: 1 to 256 colours.
    ///   - pixels: `height × width` palette indices, row-major, top row first; each below `palette.count`.
    /// - Returns: The bytes of the file: signature, `IHDR` (8-bit indexed colour), `PLTE`,
    ///   one `IDAT` and `IEND`.
    /// - Complexity: O(width · height).
    public static func encode(width: Int, height: Int, palette: [Color], pixels: [UInt8]) -> [UInt8] {
        precondition(width >= 1 && height >= 1 && pixels.count == width * height, "\(pixels.count) pixels for \(width) × \(height)")
        precondition(!palette.isEmpty && palette.count <= 256, "a palette holds 1 to 256 colours")
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        // Width, height, bit depth 8, colour type 3 (indexed), compression 0, filter 0, no interlace.
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 3, 0, 0, 0]
        appendChunk("IHDR", header, to: &file)
        appendChunk("PLTE", palette.flatMap { [$0.red, $0.green, $0.blue] }, to: &file)
        // Each row starts with its filter type, 0 (none).
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity((width + 1) * height)
        for row in 0..<height {
            scanlines.append(0)
            scanlines += pixels[(row * width)..<((row + 1) * width)]
        }
        appendChunk("IDAT", zlibStored(scanlines), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// `data` as a zlib stream of stored deflate blocks.
    /// - Returns: The 2-byte zlib header (deflate, 32 KiB window, no dictionary), blocks
    ///   of at most 65,535 bytes, and the Adler-32 of `data`, big-endian.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var stream: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let length = min(65_535, data.count - start)
            let isLast = start + length == data.count
            // BFINAL in bit 0, BTYPE 00 (stored); the rest of the byte pads to the boundary.
            stream.append(isLast ? 1 : 0)
            stream += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            stream += data[start..<(start + length)]
            start += length
        } while start < data.count
        stream += bigEndian(adler32(data))
        return stream
    }

    /// The Adler-32 checksum of `data` (RFC 1950, section 8.2).
    public static func adler32(_ data: [UInt8]) -> UInt32 {
        let modulus: UInt32 = 65_521
        var low: UInt32 = 1
        var high: UInt32 = 0
        // 5,552 bytes is the most that can be summed before `high` could overflow 32 bits.
        var start = 0
        while start < data.count {
            for byte in data[start..<min(data.count, start + 5_552)] {
                low += UInt32(byte)
                high += low
            }
            low %= modulus
            high %= modulus
            start += 5_552
        }
        return high << 16 | low
    }

    /// The CRC-32 of `data` as PNG chunks carry it (ISO 3309; reflected polynomial 0xEDB88320).
    public static func crc32<Bytes: Sequence<UInt8>>(_ data: Bytes) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// Length, type, data, and the CRC of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file += bigEndian(UInt32(data.count))
        file += typeBytes
        file += data
        file += bigEndian(crc32(typeBytes + data))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
