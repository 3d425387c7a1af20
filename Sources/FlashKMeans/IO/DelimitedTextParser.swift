/// A streaming parser of comma- or tab-separated numbers: fed the text in chunks of any
/// size, it hands back the values row after row, and names the line and column of the
/// first thing it cannot read.
///
/// What it reads, as numpy's `savetxt`, pandas' `to_csv` and spreadsheets write it:
/// - One row a line, ended by LF or CRLF, the last line with or without its line end.
///   Blank lines (nothing but spaces) are skipped wherever they are. A UTF-8 byte order
///   mark at the start is skipped.
/// - Fields separated by `separator`. Spaces (and, in CSV, tabs) around a field are
///   ignored, as are carriage returns.
/// - Fields may be quoted as RFC 4180 has it: `"…"`, with `""` for a quote inside; a quoted
///   field may hold separators and line ends. A quote inside an unquoted field is text.
/// - With `hasHeaderLine`, the first non-blank line is skipped unread, whatever it holds.
/// - The first `skippedColumns` fields of each line are skipped unread (ids, labels).
/// - Every other field is one value, read as numpy reads it (``DecimalText``): C's `strtod`,
///   rounded to float32. A field must be a number as a whole; NaN, infinities and numbers
///   beyond float32's range (±3.4 × 10³⁸) are refused, since the engine needs finite values.
/// - Every line has the same number of fields as the first data line.
///
/// Lines are numbered from 1, every line end in the file counted (blank lines and line
/// ends inside quotes too); columns number the fields of a line from 1, skipped ones
/// included, as a spreadsheet shows them. An error in a field names the line the field
/// starts on.
///
/// Memory: one field of at most ``maximumFieldBytes`` and ``outputValues`` floats,
/// whatever the size of the text.
struct DelimitedTextParser: ~Copyable {
    /// The longest field parsed as a number. `strtod` reads any length, but no float64 needs
    /// more than 767 significant digits to be written exactly; a longer field is refused
    /// rather than held in memory of the size the file chooses.
    static let maximumFieldBytes = 1024
    /// Values collected before they are handed to `flush` (1 MiB).
    static let outputValues = 1 << 18

    private let path: String
    private let separator: UInt8
    private let hasHeaderLine: Bool
    private let skippedColumns: Int

    // MARK: Where the parser is in the text

    private enum FieldState {
        /// No byte of the field yet but spaces.
        case start
        /// Inside an unquoted field.
        case unquoted
        /// Inside quotes.
        case quoted
        /// Just after a quote inside quotes: a second quote is a literal one, anything else
        /// ends the quoted text.
        case quoteInQuoted
        /// After the closing quote; only spaces may come before the separator or line end.
        case afterQuoted
    }

    private var state = FieldState.start
    /// The line of the byte being read.
    private var line = 1
    /// The line the current field, and the current record, start on.
    private var fieldLine = 1
    private var recordLine = 1
    /// The current field's index in its line (0-based).
    private var fieldIndex = 0
    private var fieldQuoted = false
    /// The current field's bytes, when it is a value (others are not kept), plus a NUL.
    private let field = UnsafeMutablePointer<UInt8>.allocate(capacity: maximumFieldBytes + 1)
    private var fieldLength = 0
    /// More bytes than ``maximumFieldBytes`` came, and were dropped.
    private var fieldOverflowed = false
    private var atStartOfText = true
    private var headerSkipped = false

    // MARK: What has been read

    /// Values per row, from the first data line.
    private var dimension: Int?
    private(set) var rowCount = 0
    private let output = UnsafeMutablePointer<Float>.allocate(capacity: outputValues)
    private var outputCount = 0

    /// A parser for one file.
    /// - Parameters:
    ///   - path: The file, as errors name it.
    ///   - separator: `,` or tab.
    ///   - hasHeaderLine: Whether to skip the first non-blank line.
    ///   - skippedColumns: Leading fields of each line to skip; not negative.
    init(path: String, separator: UInt8, hasHeaderLine: Bool, skippedColumns: Int) {
        precondition(skippedColumns >= 0, "skipped columns must not be negative")
        self.path = path
        self.separator = separator
        self.hasHeaderLine = hasHeaderLine
        self.skippedColumns = skippedColumns
    }

    deinit {
        field.deallocate()
        output.deallocate()
    }

    /// Reads the next chunk of the text; a field or line may continue into the next chunk.
    /// - Parameters:
    ///   - bytes: The text that follows what came before.
    ///   - flush: Receives the values collected so far, row-major, whenever the output is
    ///     full; it may throw to stop the parse.
    /// - Throws: ``DatasetError`` naming the line and column of the first field that is not
    ///   a finite number, or of a line of the wrong length; whatever `flush` throws.
    /// - Complexity: O(`bytes.count`).
    mutating func consume(
        _ bytes: UnsafeRawBufferPointer, flush: (UnsafeBufferPointer<Float>) throws(DatasetError) -> Void
    ) throws(DatasetError) {
        var index = bytes.startIndex
        if atStartOfText, !bytes.isEmpty {
            atStartOfText = false
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index += 3 }
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            switch state {
            case .start:
                if byte == separator {
                    try endField(flush: flush)
                } else if byte == newline {
                    try endRecord(flush: flush)
                } else if byte == quote {
                    state = .quoted
                    fieldQuoted = true
                } else if !isSpace(byte) {
                    state = .unquoted
                    append(byte)
                }
            case .unquoted:
                if byte == separator {
                    try endField(flush: flush)
                } else if byte == newline {
                    try endRecord(flush: flush)
                } else {
                    append(byte)
                }
            case .quoted:
                if byte == quote {
                    state = .quoteInQuoted
                } else {
                    append(byte)
                }
            case .quoteInQuoted:
                if byte == quote {
                    state = .quoted
                    append(byte)
                } else if byte == separator {
                    try endField(flush: flush)
                } else if byte == newline {
                    try endRecord(flush: flush)
                } else if isSpace(byte) {
                    state = .afterQuoted
                } else {
                    throw malformed("text after the closing quote of a quoted field")
                }
            case .afterQuoted:
                if byte == separator {
                    try endField(flush: flush)
                } else if byte == newline {
                    try endRecord(flush: flush)
                } else if !isSpace(byte) {
                    throw malformed("text after the closing quote of a quoted field")
                }
            }
            if byte == newline {
                line += 1
                if state == .start {
                    fieldLine = line
                    if fieldIndex == 0 { recordLine = line }
                }
            }
        }
    }

    /// Ends the text: reads its last line, if it has no line end, and hands over the rest of
    /// the values.
    /// - Parameter flush: Receives the remaining values.
    /// - Returns: The rows read and their length.
    /// - Throws: ``DatasetError`` for a quoted field left open, a last line that is wrong,
    ///   or a text without a row of numbers; whatever `flush` throws.
    mutating func finish(flush: (UnsafeBufferPointer<Float>) throws(DatasetError) -> Void) throws(DatasetError) -> (rowCount: Int, dimension: Int) {
        switch state {
        case .quoted:
            throw malformed("the quoted field has no closing quote")
        case .start where fieldIndex == 0 && !fieldQuoted:
            break  // the text ended with a line end, or is blank
        default:
            try endRecord(flush: flush)
        }
        guard let dimension, rowCount > 0 else { throw DatasetError(path: path, .noRows) }
        if outputCount > 0 { try flush(UnsafeBufferPointer(start: output, count: outputCount)) }
        outputCount = 0
        return (rowCount, dimension)
    }

    // MARK: Fields and records

    private let newline = UInt8(ascii: "\n")
    private let quote = UInt8(ascii: "\"")

    /// Spaces around a field: blanks, tabs (unless they separate fields) and carriage returns.
    private func isSpace(_ byte: UInt8) -> Bool {
        (byte == 0x20 || byte == 0x09 || byte == 0x0D) && byte != separator
    }

    private var isHeaderRecord: Bool { hasHeaderLine && !headerSkipped }

    /// Whether the current field's bytes are kept: only values are.
    private var keepsField: Bool {
        !isHeaderRecord && fieldIndex >= skippedColumns && fieldIndex - skippedColumns < (dimension ?? .max)
    }

    private mutating func append(_ byte: UInt8) {
        guard keepsField else { return }
        if fieldLength < Self.maximumFieldBytes {
            field[fieldLength] = byte
            fieldLength += 1
        } else {
            fieldOverflowed = true
        }
    }

    private mutating func resetField() {
        state = .start
        fieldLength = 0
        fieldOverflowed = false
        fieldQuoted = false
        fieldLine = line
    }

    private mutating func endField(flush: (UnsafeBufferPointer<Float>) throws(DatasetError) -> Void) throws(DatasetError) {
        if keepsField {
            let value = try parseField()
            if outputCount == Self.outputValues {
                try flush(UnsafeBufferPointer(start: output, count: outputCount))
                outputCount = 0
            }
            output[outputCount] = value
            outputCount += 1
        }
        fieldIndex += 1
        resetField()
    }

    private mutating func endRecord(flush: (UnsafeBufferPointer<Float>) throws(DatasetError) -> Void) throws(DatasetError) {
        // A line of nothing but spaces holds no row (its one field is empty and unquoted).
        let blank = fieldIndex == 0 && fieldLength == 0 && !fieldQuoted && !fieldOverflowed && state == .start
        if blank {
            resetField()
            return
        }
        let header = isHeaderRecord
        try endField(flush: flush)
        let fieldCount = fieldIndex
        fieldIndex = 0
        if header {
            headerSkipped = true
            return
        }
        if let dimension {
            guard fieldCount == skippedColumns + dimension else {
                throw DatasetError(path: path, .raggedLine(line: recordLine, fieldCount: fieldCount, expected: skippedColumns + dimension))
            }
        } else {
            guard fieldCount > skippedColumns else {
                throw DatasetError(path: path, .noValueColumns(line: recordLine, fieldCount: fieldCount, skipped: skippedColumns))
            }
            dimension = fieldCount - skippedColumns
        }
        rowCount += 1
    }

    /// The current field as a finite float32.
    private mutating func parseField() throws(DatasetError) -> Float {
        let column = fieldIndex + 1
        guard !fieldOverflowed else {
            throw malformed("a field of more than \(Self.maximumFieldBytes) bytes is too long to be a number")
        }
        // Leading spaces never reach the field; trailing ones (and, in quotes, line ends) are cut.
        while fieldLength > 0, field[fieldLength - 1] == 0x20 || field[fieldLength - 1] == 0x09
            || field[fieldLength - 1] == 0x0D || field[fieldLength - 1] == 0x0A {
            fieldLength -= 1
        }
        field[fieldLength] = 0
        guard let value = DecimalText.float(field, length: fieldLength) else {
            let text = excerpt()
            // The first line of numbers is where a header line would be.
            if dimension == nil, !hasHeaderLine, !text.isEmpty {
                throw DatasetError(path: path, .headerLine(line: fieldLine, column: column, text: text))
            }
            throw DatasetError(path: path, .notANumber(line: fieldLine, column: column, text: text))
        }
        guard value.isFinite else {
            throw DatasetError(path: path, .nonFiniteField(line: fieldLine, column: column, text: excerpt()))
        }
        return value
    }

    /// The field's text for a message: at most 40 bytes, decoded leniently.
    private func excerpt() -> String {
        let shown = UnsafeBufferPointer(start: field, count: min(fieldLength, 40))
        return String(decoding: shown, as: UTF8.self) + (fieldLength > 40 ? "…" : "")
    }

    private func malformed(_ why: String) -> DatasetError {
        DatasetError(path: path, .malformedField(line: fieldLine, column: fieldIndex + 1, why))
    }
}
