import FlashKMeans
import Testing

/// The encoder's checksums against published check values, and its files read back by a
/// decoder written here from the PNG and zlib specifications.
@Suite struct PNGEncoderTests {
    @Test func checksumsMatchTheirCheckValues() {
        // The CRC-32 check value of "123456789" (ISO 3309 / ITU-T V.42), and the CRC every IEND chunk carries.
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGEncoder.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        // RFC 1950's Adler-32; "Wikipedia" is the textbook example.
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNGEncoder.adler32([]) == 1)
        // Long enough for the modulo to be taken several times.
        let long = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var low: UInt32 = 1
        var high: UInt32 = 0
        for byte in long {
            low = (low + UInt32(byte)) % 65_521
            high = (high + low) % 65_521
        }
        #expect(PNGEncoder.adler32(long) == high << 16 | low)
    }

    struct DecodedPNG {
        var width: Int
        var height: Int
        var palette: [PNGEncoder.Color]
        var pixels: [UInt8]
    }

    /// Reads what ``PNGEncoder`` writes, checking every CRC, the zlib header, the stored
    /// blocks' lengths and the Adler-32; expects filter 0 on every row.
    static func decode(_ file: [UInt8]) throws -> DecodedPNG {
        struct Invalid: Error { var reason: String }
        func word(_ at: Int) -> Int { Int(file[at]) << 24 | Int(file[at + 1]) << 16 | Int(file[at + 2]) << 8 | Int(file[at + 3]) }
        guard file.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Invalid(reason: "signature") }
        var position = 8
        var chunks: [(type: String, data: [UInt8])] = []
        while position < file.count {
            let length = word(position)
            let type = String(decoding: file[(position + 4)..<(position + 8)], as: UTF8.self)
            let data = Array(file[(position + 8)..<(position + 8 + length)])
            guard UInt32(word(position + 8 + length)) == PNGEncoder.crc32(file[(position + 4)..<(position + 8 + length)]) else {
                throw Invalid(reason: "CRC of \(type)")
            }
            chunks.append((type, data))
            position += 12 + length
        }
        guard chunks.map(\.type) == ["IHDR", "PLTE", "IDAT", "IEND"] else { throw Invalid(reason: "chunks \(chunks.map(\.type))") }
        let header = chunks[0].data
        let width = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        let height = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
        guard Array(header[8...]) == [8, 3, 0, 0, 0] else { throw Invalid(reason: "not 8-bit indexed") }
        let paletteBytes = chunks[1].data
        let palette = stride(from: 0, to: paletteBytes.count, by: 3).map {
            PNGEncoder.Color(red: paletteBytes[$0], green: paletteBytes[$0 + 1], blue: paletteBytes[$0 + 2])
        }
        let stream = chunks[2].data
        guard (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0, stream[0] & 0x0F == 8 else { throw Invalid(reason: "zlib header") }
        var raw: [UInt8] = []
        var at = 2
        var isLast = false
        while !isLast {
            guard stream[at] & 0b110 == 0 else { throw Invalid(reason: "not a stored block") }
            isLast = stream[at] & 1 == 1
            let length = Int(stream[at + 1]) | Int(stream[at + 2]) << 8
            let complement = Int(stream[at + 3]) | Int(stream[at + 4]) << 8
            guard length ^ complement == 0xFFFF else { throw Invalid(reason: "LEN and NLEN disagree") }
            raw += stream[(at + 5)..<(at + 5 + length)]
            at += 5 + length
        }
        let adler = UInt32(stream[at]) << 24 | UInt32(stream[at + 1]) << 16 | UInt32(stream[at + 2]) << 8 | UInt32(stream[at + 3])
        guard adler == PNGEncoder.adler32(raw), at + 4 == stream.count else { throw Invalid(reason: "Adler-32") }
        guard raw.count == (width + 1) * height else { throw Invalid(reason: "\(raw.count) bytes of image data") }
        var pixels: [UInt8] = []
        for row in 0..<height {
            guard raw[row * (width + 1)] == 0 else { throw Invalid(reason: "filter of row \(row)") }
            pixels += raw[(row * (width + 1) + 1)..<((row + 1) * (width + 1))]
        }
        return DecodedPNG(width: width, height: height, palette: palette, pixels: pixels)
    }

    @Test(arguments: [(3, 2), (1, 1), (700, 300)])
    func imagesReadBack(width: Int, height: Int) throws {
        // 700 × 300 is three stored blocks.
        let palette = [PNGEncoder.Color(red: 255, green: 0, blue: 0), .init(red: 0, green: 9, blue: 200), .init(red: 1, green: 2, blue: 3)]
        let pixels = (0..<(width * height)).map { UInt8(($0 * 7 + $0 / width) % 3) }
        let decoded = try Self.decode(PNGEncoder.encode(width: width, height: height, palette: palette, pixels: pixels))
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.palette == palette)
        #expect(decoded.pixels == pixels)
    }
}
