import CSnappy
import CZlib
import CZstd

/// The page compressions read: Parquet's `CompressionCodec` codes 0 (none), 1 (Snappy),
/// 2 (gzip) and 6 (Zstandard), the ones pyarrow and Spark write.
enum ParquetCodec {
    case uncompressed, snappy, gzip, zstd

    /// The codec of `code`.
    /// - Throws: ``ParquetFailure`` naming a codec that is not read (LZO, Brotli, LZ4).
    init(code: Int32) throws {
        switch code {
        case 0: self = .uncompressed
        case 1: self = .snappy
        case 2: self = .gzip
        case 6: self = .zstd
        default:
            let names: [Int32: String] = [3: "LZO", 4: "BROTLI", 5: "LZ4", 7: "LZ4_RAW"]
            throw ParquetFailure(
                "pages compressed with \(names[code] ?? "codec \(code)") cannot be read (only uncompressed, SNAPPY, GZIP and ZSTD); "
                    + "rewrite the file with one of those")
        }
    }

    /// Most bytes gzip (deflate) can expand one stored byte into: zlib's 1032:1, reached only
    /// by runs of one byte.
    static let largestDeflateRatio = 1032

    /// Checks, before the page's buffer is sized from it, that `source` can hold `count`
    /// bytes: the size Snappy and Zstandard record in their own headers must agree, and
    /// gzip cannot exceed deflate's largest ratio.
    /// - Throws: ``ParquetFailure`` for a declaration the stored bytes cannot back.
    func checkDeclaredSize(of source: UnsafeRawBufferPointer, count: Int) throws {
        let sourceBase = source.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        switch self {
        case .uncompressed:
            guard source.count == count else {
                throw ParquetFailure("an uncompressed page stores \(source.count) bytes but declares \(count)")
            }
        case .snappy:
            var length = 0
            guard snappy_uncompressed_length(sourceBase.assumingMemoryBound(to: CChar.self), source.count, &length) == SNAPPY_OK,
                  length == count
            else { throw ParquetFailure("a Snappy page is corrupt or does not hold the \(count) bytes it declares") }
        case .zstd:
            let recorded = ZSTD_getFrameContentSize(sourceBase, source.count)
            // ZSTD_CONTENTSIZE_UNKNOWN (all ones) when the frame does not record it; ERROR (one less) when it is no frame.
            guard recorded != UInt64.max - 1 else { throw ParquetFailure("a ZSTD page is corrupt (no zstd frame)") }
            guard recorded == UInt64.max || recorded == UInt64(count) else {
                throw ParquetFailure("a ZSTD page holds \(recorded) bytes but declares \(count)")
            }
        case .gzip:
            let (largest, overflow) = source.count.multipliedReportingOverflow(by: Self.largestDeflateRatio)
            guard overflow || count <= largest + 1024 else {
                throw ParquetFailure("a GZIP page of \(source.count) bytes declares \(count), more than deflate can expand to")
            }
        }
    }

    /// Decompresses `source` into exactly `destinationCount` bytes at `destination`.
    ///
    /// - Parameters:
    ///   - source: The stored page bytes.
    ///   - destination: Room for `destinationCount` bytes (out).
    ///   - destinationCount: The page's declared uncompressed size.
    /// - Throws: ``ParquetFailure`` when the data are corrupt or do not decompress to the declared size.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer, count destinationCount: Int) throws {
        let sourceBase = source.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        switch self {
        case .uncompressed:
            guard source.count == destinationCount else {
                throw ParquetFailure("an uncompressed page stores \(source.count) bytes but declares \(destinationCount)")
            }
            destination.copyMemory(from: sourceBase, byteCount: destinationCount)
        case .snappy:
            var length = 0
            let input = sourceBase.assumingMemoryBound(to: CChar.self)
            guard snappy_uncompressed_length(input, source.count, &length) == SNAPPY_OK, length == destinationCount else {
                throw ParquetFailure("a Snappy page is corrupt or does not hold the \(destinationCount) bytes it declares")
            }
            guard snappy_uncompress(input, source.count, destination.assumingMemoryBound(to: CChar.self), &length) == SNAPPY_OK,
                  length == destinationCount
            else { throw ParquetFailure("a Snappy page is corrupt") }
        case .zstd:
            let result = ZSTD_decompress(destination, destinationCount, sourceBase, source.count)
            guard ZSTD_isError(result) == 0 else {
                throw ParquetFailure("a ZSTD page is corrupt (\(String(cString: ZSTD_getErrorName(result))))")
            }
            guard result == destinationCount else {
                throw ParquetFailure("a ZSTD page holds \(result) bytes but declares \(destinationCount)")
            }
        case .gzip:
            try Self.inflate(source, into: destination, count: destinationCount)
        }
    }

    /// Inflates one or more concatenated gzip members (zlib streams are accepted too).
    private static func inflate(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer, count: Int) throws {
        guard source.count <= UInt32.max, count <= UInt32.max else { throw ParquetFailure("a GZIP page is larger than 4 GB") }
        var stream = z_stream()
        // 15 + 32: a window of 32 KB, and either a gzip or a zlib header, detected.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetFailure("zlib could not start inflating a GZIP page")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(source.count)
        stream.next_out = destination.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(count)
        while true {
            let status = CZlib.inflate(&stream, Z_FINISH)
            if status == Z_STREAM_END {
                // Another member may follow.
                if stream.avail_in > 0, stream.avail_out > 0, inflateReset(&stream) == Z_OK { continue }
                break
            }
            guard status == Z_OK else {
                throw ParquetFailure(
                    status == Z_BUF_ERROR && stream.avail_out == 0
                        ? "a GZIP page holds more than the \(count) bytes it declares" : "a GZIP page is corrupt (zlib error \(status))")
            }
        }
        guard stream.avail_out == 0 else {
            throw ParquetFailure("a GZIP page holds \(count - Int(stream.avail_out)) bytes but declares \(count)")
        }
    }
}
