/// Decodes Parquet's RLE/bit-packed hybrid encoding, used for repetition and definition
/// levels and for dictionary indices.
///
/// The data are runs, each behind a varint header: an even header `2n` is a run of `n`
/// copies of one value (stored in the fewest whole bytes that hold `bitWidth` bits), an
/// odd header `2g + 1` is `8g` values bit-packed least significant bit first. The last
/// bit-packed run may be cut short by the end of the data; values past the data are
/// refused rather than read.
///
/// The decoder borrows the page buffer it reads; the caller keeps it alive and unchanged.
struct HybridRunDecoder {
    private var position: UnsafePointer<UInt8>
    private let end: UnsafePointer<UInt8>
    let bitWidth: Int
    /// Values left in the current run.
    private var runRemaining = 0
    private var runIsRepeated = true
    private var repeatedValue: UInt32 = 0
    /// The current bit-packed run: its first byte, and the index of its next value.
    private var packedStart: UnsafePointer<UInt8>
    private var packedIndex = 0

    /// Reads `byteCount` bytes from `start`.
    /// - Parameters:
    ///   - start: The first byte of the runs.
    ///   - byteCount: Bytes of runs.
    ///   - bitWidth: Bits per value, 0 to 32 (checked by the caller).
    init(start: UnsafePointer<UInt8>, byteCount: Int, bitWidth: Int) {
        precondition(bitWidth >= 0 && bitWidth <= 32 && byteCount >= 0)
        position = start
        end = start + byteCount
        self.bitWidth = bitWidth
        packedStart = start
    }

    /// A decoder of no data: every read fails. Stands in before a page is loaded.
    static var empty: HybridRunDecoder {
        let byte = UnsafePointer<UInt8>(bitPattern: 1)!
        return HybridRunDecoder(start: byte, byteCount: 0, bitWidth: 0)
    }

    /// The number of bits needed to hold `value`: the bit width of levels up to `value`.
    static func bitWidth(of value: Int) -> Int {
        value == 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount
    }

    private static func exhausted() -> ParquetFailure { ParquetFailure("a page's levels or dictionary indices end early") }

    /// Starts the next run.
    private mutating func nextRun() throws {
        var header: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw Self.exhausted() }
            let byte = position.pointee
            position += 1
            guard shift < 64 else { throw ParquetFailure("a run header is longer than 64 bits") }
            header |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        if header & 1 == 0 {
            let byteCount = (bitWidth + 7) / 8
            guard end - position >= byteCount else { throw Self.exhausted() }
            var value: UInt32 = 0
            for index in 0..<byteCount { value |= UInt32(position[index]) << (8 * index) }
            position += byteCount
            guard bitWidth == 32 || value >> bitWidth == 0 else { throw ParquetFailure("a run repeats \(value), wider than \(bitWidth) bits") }
            runIsRepeated = true
            repeatedValue = value
            runRemaining = Int(clamping: header >> 1)
        } else {
            // 8 values per group take bitWidth bytes; the data may stop inside the last group.
            let groups = header >> 1
            let available = end - position
            let declaredBytes = groups.multipliedReportingOverflow(by: UInt64(bitWidth))
            let bytes = declaredBytes.overflow ? available : min(available, Int(clamping: declaredBytes.partialValue))
            runIsRepeated = false
            packedStart = position
            packedIndex = 0
            runRemaining = bitWidth == 0 ? Int(clamping: groups.multipliedReportingOverflow(by: 8).partialValue) : bytes * 8 / bitWidth
            if bitWidth == 0, groups.multipliedReportingOverflow(by: 8).overflow { runRemaining = Int.max }
            position += bytes
        }
    }

    /// Bit-packed value `index` of the current run.
    @inline(__always)
    private func packedValue(_ index: Int) -> UInt32 {
        let bit = index * bitWidth
        let first = packedStart + bit >> 3
        var word: UInt64
        if end - first >= 8 {
            word = UInt64(littleEndian: UnsafeRawPointer(first).loadUnaligned(as: UInt64.self))
        } else {
            // Near the end: only the bytes the value spans (up to 40 bits), never past the data.
            let lastByte = (bit + bitWidth - 1) >> 3
            word = 0
            for offset in 0...(lastByte - bit >> 3) { word |= UInt64(first[offset]) << (8 * offset) }
        }
        return UInt32(truncatingIfNeeded: (word >> UInt64(bit & 7)) & ((1 << UInt64(bitWidth)) - 1))
    }

    /// Decodes the next `count` values into `destination`.
    /// - Throws: ``ParquetFailure`` when the data end first, or (for `UInt8`) a value exceeds 255.
    mutating func read<Value: FixedWidthInteger & UnsignedInteger>(into destination: UnsafeMutablePointer<Value>, count: Int) throws {
        var done = 0
        while done < count {
            if runRemaining == 0 { try nextRun() }
            let take = min(runRemaining, count - done)
            if runIsRepeated {
                guard let value = Value(exactly: repeatedValue) else { throw ParquetFailure("a level of \(repeatedValue) is out of range") }
                (destination + done).update(repeating: value, count: take)
            } else if bitWidth == 0 {
                (destination + done).update(repeating: 0, count: take)
            } else {
                for slot in 0..<take {
                    let raw = packedValue(packedIndex + slot)
                    guard let value = Value(exactly: raw) else { throw ParquetFailure("a level of \(raw) is out of range") }
                    destination[done + slot] = value
                }
                packedIndex += take
            }
            runRemaining -= take
            done += take
        }
    }

    /// Passes over the next `count` values.
    /// - Throws: ``ParquetFailure`` when the data end first.
    mutating func skip(_ count: Int) throws {
        var done = 0
        while done < count {
            if runRemaining == 0 { try nextRun() }
            let take = min(runRemaining, count - done)
            if !runIsRepeated { packedIndex += take }
            runRemaining -= take
            done += take
        }
    }
}
