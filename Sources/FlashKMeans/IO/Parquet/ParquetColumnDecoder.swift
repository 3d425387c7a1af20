import CKMeansKernels

/// One thread's reading position in a Parquet column: the row group, the page being
/// decoded, and that chunk's dictionary. Rows are decoded straight into the caller's
/// float32 scratch; nothing larger than a page is ever held.
///
/// Reading moves forwards only. A request for a row behind the position, or in another
/// row group, starts again at that row group's first page and passes over the rows before
/// it (levels are still decoded, values skipped without conversion). The tiles of a pass
/// are consecutive, so a pass decodes each page once.
///
/// Memory: one page as stored after decompression (at most ``largestPageBytes``, about
/// 1 MiB as pyarrow and Spark write them), one chunk's dictionary as float32 (at most
/// twice its page), and fixed batches of ``batchCapacity`` levels and indices.
///
/// A decoder is used by one thread at a time (``ParquetSource`` hands it over under a lock).
final class ParquetColumnDecoder: @unchecked Sendable {
    /// The largest page decoded, stored or decompressed. pyarrow and Spark write pages of
    /// about 1 MiB; a larger declaration is a damaged header, refused before allocating.
    static let largestPageBytes = 256 << 20
    /// Level entries decoded at a time.
    static let batchCapacity = 4096

    private let layout: ParquetLayout
    private let maxDefinition: UInt8
    private let listDefinition: UInt8

    // MARK: Position

    /// The row group being read (an index into `layout.groups`), or -1 before the first read
    /// and after a failure.
    private(set) var group = -1
    /// The next row to decode, within the group.
    private(set) var nextRow = 0
    private var nextPageOffset = 0
    private var codec = ParquetCodec.uncompressed

    // MARK: The current chunk's dictionary, as float32

    private var dictionary: UnsafeMutablePointer<Float>
    private var dictionaryCapacity = 0
    /// Values in the dictionary; -1 when the chunk has none (yet).
    private var dictionaryCount = -1

    // MARK: The current page

    private var page: UnsafeMutableRawPointer
    private var pageCapacity = 0
    /// Level entries of the page not yet batched.
    private var levelsLeft = 0
    private var repetitionLevels = HybridRunDecoder.empty
    private var definitionLevels = HybridRunDecoder.empty

    private enum ValueEncoding {
        case plain, dictionary, byteStreamSplit
    }

    private var valueEncoding = ValueEncoding.plain
    /// Plain values: the next one's byte offset in `page`, and the end of the values.
    private var valueCursor = 0
    private var valueEnd = 0
    /// Dictionary indices.
    private var indices = HybridRunDecoder.empty
    /// Byte-stream-split values: where the streams start, their length (the page's value
    /// count) and the next value's index.
    private var splitStart = 0
    private var splitCount = 0
    private var splitIndex = 0

    // MARK: Batches

    private let repetitionBatch: UnsafeMutablePointer<UInt8>
    private let definitionBatch: UnsafeMutablePointer<UInt8>
    private let indexBatch: UnsafeMutablePointer<UInt32>
    private var batchCount = 0
    private var batchPosition = 0

    init(layout: ParquetLayout) {
        self.layout = layout
        maxDefinition = UInt8(layout.maxDefinitionLevel)
        listDefinition = UInt8(layout.listDefinitionLevel)
        dictionary = .allocate(capacity: 0)
        page = .allocate(byteCount: 0, alignment: 16)
        repetitionBatch = .allocate(capacity: Self.batchCapacity)
        definitionBatch = .allocate(capacity: Self.batchCapacity)
        indexBatch = .allocate(capacity: Self.batchCapacity)
    }

    deinit {
        dictionary.deallocate()
        page.deallocate()
        repetitionBatch.deallocate()
        definitionBatch.deallocate()
        indexBatch.deallocate()
    }

    /// Forgets the position, after a failure left it inconsistent.
    func invalidate() { group = -1 }

    /// Where the decoder stands: the file's row number of its next row, or `nil` when it
    /// must start again.
    var nextFileRow: Int? { group < 0 ? nil : layout.groups[group].firstRow + nextRow }

    /// Decodes rows `rows` of group `group` (numbered within it) into `destination`, `d` floats a row.
    ///
    /// - Parameters:
    ///   - rows: Rows of the group, within `0..<rowCount`.
    ///   - group: An index into the layout's groups.
    ///   - destination: Room for `rows.count × d` floats (out).
    ///   - file: The whole file's bytes.
    /// - Throws: ``ParquetFailure`` for a null, short or long row, or a damaged page.
    func read(
        _ rows: Range<Int>, ofGroup group: Int, into destination: UnsafeMutablePointer<Float>, file: UnsafeRawBufferPointer
    ) throws {
        if group != self.group || rows.lowerBound < nextRow { start(group) }
        let dimension = layout.dimension
        // Rows passed over are held to the same length as rows read.
        while nextRow < rows.lowerBound {
            let length = try nextRowValues(into: nil, limit: dimension, file: file)
            guard length == dimension else { throw raggedRow(length: length) }
            nextRow += 1
        }
        for slot in 0..<rows.count {
            let length = try nextRowValues(into: destination + slot * dimension, limit: dimension, file: file)
            guard length == dimension else { throw raggedRow(length: length) }
            nextRow += 1
        }
    }

    /// The number of values in group `group`'s first row, read before the row length is known.
    /// - Parameter limit: The most values a row may have (what the file's bytes can back).
    func firstRowLength(ofGroup group: Int, limit: Int, file: UnsafeRawBufferPointer) throws -> Int {
        start(group)
        return try nextRowValues(into: nil, limit: limit, file: file)
    }

    private var rowNumber: Int { layout.groups[group].firstRow + nextRow }

    private func raggedRow(length: Int) -> ParquetFailure {
        let first = layout.groups[0].firstRow
        return ParquetFailure("row \(rowNumber) has \(length) values, but row \(first) has \(layout.dimension); every row must have the same length")
    }

    private func start(_ group: Int) {
        self.group = group
        nextRow = 0
        nextPageOffset = layout.groups[group].chunk.lowerBound
        codec = layout.groups[group].codec
        dictionaryCount = -1
        levelsLeft = 0
        batchCount = 0
        batchPosition = 0
    }

    // MARK: Rows

    /// Decodes the next row's values into `destination` (or passes over them when it is
    /// `nil`) and returns how many there were.
    ///
    /// - Parameter limit: The most values `destination` holds; a longer row is refused.
    /// - Throws: ``ParquetFailure`` for a null row or value, a row longer than `limit`, or
    ///   a chunk that ends before the group's rows do.
    private func nextRowValues(into destination: UnsafeMutablePointer<Float>?, limit: Int, file: UnsafeRawBufferPointer) throws -> Int {
        let groupInfo = layout.groups[group]
        guard nextRow < groupInfo.rowCount else { throw ParquetFailure("row group \(groupInfo.index) holds more rows than it declares") }
        guard try fillBatch(file: file) else {
            throw ParquetFailure("row group \(groupInfo.index) ends after \(nextRow) of the \(groupInfo.rowCount) rows it declares")
        }
        guard repetitionBatch[batchPosition] == 0 else {
            throw ParquetFailure("row \(rowNumber) does not start a new list (damaged repetition levels)")
        }
        var length = 0
        var first = true
        rows: while true {
            while batchPosition < batchCount {
                if !first && repetitionBatch[batchPosition] == 0 { break rows }
                let definition = definitionBatch[batchPosition]
                if definition == maxDefinition {
                    // Present values up to the next row or a null: converted together.
                    var run = 1
                    while batchPosition + run < batchCount, definitionBatch[batchPosition + run] == maxDefinition,
                          repetitionBatch[batchPosition + run] != 0 {
                        run += 1
                    }
                    guard run <= limit - length else {
                        guard layout.dimension > 0 else {
                            throw ParquetFailure("row \(rowNumber) has more than \(limit) values, more than the file's bytes can hold")
                        }
                        throw ParquetFailure(
                            "row \(rowNumber) has more than \(limit) values, but row \(layout.groups[0].firstRow) has \(limit); "
                                + "every row must have the same length")
                    }
                    if let destination { try readValues(run, into: destination + length) } else { try skipValues(run) }
                    length += run
                    batchPosition += run
                } else if definition > maxDefinition {
                    throw ParquetFailure("row \(rowNumber) has a definition level of \(definition), above the column's \(maxDefinition)")
                } else if definition < listDefinition {
                    guard first else { throw ParquetFailure("row \(rowNumber) has inconsistent definition levels") }
                    throw ParquetFailure("row \(rowNumber) is null; every row must be a list of numbers")
                } else if definition == listDefinition {
                    guard first else { throw ParquetFailure("row \(rowNumber) has inconsistent definition levels") }
                    batchPosition += 1  // An empty list.
                } else {
                    throw ParquetFailure("row \(rowNumber) has a null value at position \(length); every value must be a number")
                }
                first = false
            }
            guard try fillBatch(file: file) else { break }
        }
        return length
    }

    /// Makes sure a batch has levels left, decoding the next ones (and loading pages) as
    /// needed; `false` when the chunk has no more.
    private func fillBatch(file: UnsafeRawBufferPointer) throws -> Bool {
        if batchPosition < batchCount { return true }
        while levelsLeft == 0 {
            guard try loadNextPage(file: file) else { return false }
        }
        let count = min(Self.batchCapacity, levelsLeft)
        try repetitionLevels.read(into: repetitionBatch, count: count)
        try definitionLevels.read(into: definitionBatch, count: count)
        levelsLeft -= count
        batchCount = count
        batchPosition = 0
        return true
    }

    // MARK: Values

    private func convert(_ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
        switch layout.element {
        case .float32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .float16:
            fk_half_to_float(source, destination, count)
        case .float64:
            for index in 0..<count { destination[index] = Float(source.loadUnaligned(fromByteOffset: 8 * index, as: Double.self)) }
        case .uint8, .int8:
            preconditionFailure("Parquet columns of uint8 are not read")
        }
    }

    private func fewerValues() -> ParquetFailure {
        ParquetFailure("a page of row group \(layout.groups[group].index) holds fewer values than its levels declare")
    }

    private func readValues(_ count: Int, into destination: UnsafeMutablePointer<Float>) throws {
        let width = layout.element.byteWidth
        switch valueEncoding {
        case .plain:
            guard valueEnd - valueCursor >= count * width else { throw fewerValues() }
            convert(page + valueCursor, into: destination, count: count)
            valueCursor += count * width
        case .dictionary:
            var done = 0
            while done < count {
                let batch = min(Self.batchCapacity, count - done)
                try indices.read(into: indexBatch, count: batch)
                for slot in 0..<batch {
                    let index = Int(indexBatch[slot])
                    guard index < dictionaryCount else {
                        throw ParquetFailure("row \(rowNumber) refers to dictionary entry \(index) of \(dictionaryCount)")
                    }
                    destination[done + slot] = dictionary[index]
                }
                done += batch
            }
        case .byteStreamSplit:
            guard splitCount - splitIndex >= count else { throw fewerValues() }
            // Byte b of value i is byte i of stream b: gathered back into little-endian values.
            let gathered = UnsafeMutableRawPointer(indexBatch)
            var done = 0
            while done < count {
                let batch = min(Self.batchCapacity * 4 / width, count - done)
                for slot in 0..<batch {
                    for byte in 0..<width {
                        gathered.storeBytes(
                            of: page.load(fromByteOffset: splitStart + byte * splitCount + splitIndex + slot, as: UInt8.self),
                            toByteOffset: slot * width + byte, as: UInt8.self)
                    }
                }
                convert(gathered, into: destination + done, count: batch)
                splitIndex += batch
                done += batch
            }
        }
    }

    private func skipValues(_ count: Int) throws {
        let width = layout.element.byteWidth
        switch valueEncoding {
        case .plain:
            guard valueEnd - valueCursor >= count * width else { throw fewerValues() }
            valueCursor += count * width
        case .dictionary:
            try indices.skip(count)
        case .byteStreamSplit:
            guard splitCount - splitIndex >= count else { throw fewerValues() }
            splitIndex += count
        }
    }

    // MARK: Pages

    private func reservePage(_ byteCount: Int) {
        guard byteCount > pageCapacity else { return }
        page.deallocate()
        page = .allocate(byteCount: byteCount, alignment: 16)
        pageCapacity = byteCount
    }

    /// Reads the next page header of the chunk and prepares its levels and values, loading
    /// any dictionary page on the way; `false` at the end of the chunk.
    private func loadNextPage(file: UnsafeRawBufferPointer) throws -> Bool {
        let groupInfo = layout.groups[group]
        let chunkEnd = groupInfo.chunk.upperBound
        let chunkBytes = UnsafeRawBufferPointer(rebasing: file[0..<chunkEnd])
        while nextPageOffset < chunkEnd {
            let header = try ParquetPageHeader(chunkBytes, at: nextPageOffset)
            let dataStart = nextPageOffset + header.headerSize
            guard header.compressedSize <= chunkEnd - dataStart else {
                throw ParquetFailure("a page of row group \(groupInfo.index) at byte \(nextPageOffset) runs past its column chunk")
            }
            let stored = UnsafeRawBufferPointer(rebasing: file[dataStart..<(dataStart + header.compressedSize)])
            nextPageOffset = dataStart + header.compressedSize
            guard header.uncompressedSize <= Self.largestPageBytes else {
                throw ParquetFailure(
                    "a page of row group \(groupInfo.index) declares \(header.uncompressedSize) bytes, more than the \(Self.largestPageBytes) read")
            }
            switch header.kind {
            case .other:
                continue
            case .dictionary:
                try loadDictionary(header, stored: stored)
            case .dataV1:
                try loadDataPageV1(header, stored: stored)
                if header.valueCount > 0 { return true }
            case .dataV2:
                try loadDataPageV2(header, stored: stored)
                if header.valueCount > 0 { return true }
            }
        }
        return false
    }

    private func loadDictionary(_ header: ParquetPageHeader, stored: UnsafeRawBufferPointer) throws {
        guard header.encoding == 0 || header.encoding == 2 else {
            throw ParquetFailure("a dictionary page is encoded with \(Self.encodingName(header.encoding)), not PLAIN")
        }
        try codec.checkDeclaredSize(of: stored, count: header.uncompressedSize)
        reservePage(header.uncompressedSize)
        try codec.decompress(stored, into: page, count: header.uncompressedSize)
        let width = layout.element.byteWidth
        guard header.valueCount <= header.uncompressedSize / width else {
            throw ParquetFailure("a dictionary page declares \(header.valueCount) values in \(header.uncompressedSize) bytes")
        }
        if header.valueCount > dictionaryCapacity {
            dictionary.deallocate()
            dictionary = .allocate(capacity: header.valueCount)
            dictionaryCapacity = header.valueCount
        }
        convert(page, into: dictionary, count: header.valueCount)
        dictionaryCount = header.valueCount
    }

    /// A v1 page: the whole page is compressed; inside, the repetition and definition
    /// levels each behind a 4-byte length, then the values.
    private func loadDataPageV1(_ header: ParquetPageHeader, stored: UnsafeRawBufferPointer) throws {
        guard header.repetitionLevelEncoding == 3, header.definitionLevelEncoding == 3 else {
            throw ParquetFailure("a page's levels are encoded with \(Self.encodingName(header.definitionLevelEncoding)), not RLE")
        }
        try codec.checkDeclaredSize(of: stored, count: header.uncompressedSize)
        reservePage(header.uncompressedSize)
        try codec.decompress(stored, into: page, count: header.uncompressedSize)
        var offset = 0
        func levels(maximum: Int) throws -> HybridRunDecoder {
            guard header.uncompressedSize - offset >= 4 else { throw ParquetFailure("a page ends inside its levels") }
            let length = Int(UInt32(littleEndian: page.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            guard length <= header.uncompressedSize - offset - 4 else { throw ParquetFailure("a page ends inside its levels") }
            defer { offset += 4 + length }
            return HybridRunDecoder(
                start: page.assumingMemoryBound(to: UInt8.self) + offset + 4, byteCount: length,
                bitWidth: HybridRunDecoder.bitWidth(of: maximum))
        }
        repetitionLevels = try levels(maximum: layout.maxRepetitionLevel)
        definitionLevels = try levels(maximum: layout.maxDefinitionLevel)
        try prepareValues(header, from: offset, to: header.uncompressedSize)
        levelsLeft = header.valueCount
    }

    /// A v2 page: the levels first, never compressed and without length prefixes, then the
    /// values, compressed unless the header says otherwise.
    private func loadDataPageV2(_ header: ParquetPageHeader, stored: UnsafeRawBufferPointer) throws {
        let levelBytes = header.repetitionLevelsBytes + header.definitionLevelsBytes
        guard levelBytes <= stored.count, levelBytes <= header.uncompressedSize else {
            throw ParquetFailure("a page's levels are longer than the page")
        }
        let values = UnsafeRawBufferPointer(rebasing: stored[levelBytes...])
        let valueBytes = header.uncompressedSize - levelBytes
        try (header.valuesCompressed ? codec : .uncompressed).checkDeclaredSize(of: values, count: valueBytes)
        reservePage(header.uncompressedSize)
        page.copyMemory(from: stored.baseAddress!, byteCount: levelBytes)
        if header.valuesCompressed {
            try codec.decompress(values, into: page + levelBytes, count: valueBytes)
        } else {
            try ParquetCodec.uncompressed.decompress(values, into: page + levelBytes, count: valueBytes)
        }
        let base = page.assumingMemoryBound(to: UInt8.self)
        repetitionLevels = HybridRunDecoder(
            start: base, byteCount: header.repetitionLevelsBytes, bitWidth: HybridRunDecoder.bitWidth(of: layout.maxRepetitionLevel))
        definitionLevels = HybridRunDecoder(
            start: base + header.repetitionLevelsBytes, byteCount: header.definitionLevelsBytes,
            bitWidth: HybridRunDecoder.bitWidth(of: layout.maxDefinitionLevel))
        try prepareValues(header, from: levelBytes, to: header.uncompressedSize)
        levelsLeft = header.valueCount
    }

    /// Sets up the decoding of the values in `page[start..<end]`.
    private func prepareValues(_ header: ParquetPageHeader, from start: Int, to end: Int) throws {
        switch header.encoding {
        case 0:
            valueEncoding = .plain
            valueCursor = start
            valueEnd = end
        case 2, 8:
            guard dictionaryCount >= 0 else { throw ParquetFailure("a dictionary-encoded page comes without a dictionary page") }
            guard end > start else { throw ParquetFailure("a dictionary-encoded page has no index bit width") }
            let bitWidth = Int(page.load(fromByteOffset: start, as: UInt8.self))
            guard bitWidth <= 32 else { throw ParquetFailure("a page's dictionary indices are \(bitWidth) bits wide") }
            valueEncoding = .dictionary
            indices = HybridRunDecoder(
                start: page.assumingMemoryBound(to: UInt8.self) + start + 1, byteCount: end - start - 1, bitWidth: bitWidth)
        case 9:
            let width = layout.element.byteWidth
            guard (end - start) % width == 0 else {
                throw ParquetFailure("a BYTE_STREAM_SPLIT page holds \(end - start) bytes, not whole values of \(width)")
            }
            valueEncoding = .byteStreamSplit
            splitStart = start
            splitCount = (end - start) / width
            splitIndex = 0
        default:
            throw ParquetFailure(
                "values encoded with \(Self.encodingName(header.encoding)) cannot be read (PLAIN, dictionary and BYTE_STREAM_SPLIT can)")
        }
    }

    static func encodingName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
            6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY", 9: "BYTE_STREAM_SPLIT",
        ]
        return names[code] ?? "encoding \(code)"
    }
}
