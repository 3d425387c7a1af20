import Foundation
import Testing
@testable import FlashKMeans
import _FlashKMeansTestSupport

/// CSV and TSV as people write them: line ends, blank lines, quotes, headers and id columns
/// are read; anything else is refused with one line naming the file, the line and the column.
@Suite final class DelimitedTextTests {
    let directory = TemporaryDirectory()

    deinit { directory.cleanup() }

    func write(_ text: String, name: String = "t.csv") -> String {
        let path = directory.file(name)
        Fixtures.writeBytes(path, Array(text.utf8))
        return path
    }

    /// The rows of `text` read as a CSV (or as `format`), row-major, and their length.
    func read(_ text: String, format: EmbeddingFormat = .csv, header: Bool = false, skip: Int = 0) throws -> (values: [Float], dimension: Int) {
        let path = write(text, name: "t." + format.rawValue)
        let source = try openEmbeddings(at: path, options: .init(hasHeaderLine: header, skippedColumns: skip))
        return (try source.readAll(), source.dimension)
    }

    func expectProblem(
        _ expected: DatasetError.Problem, in text: String, header: Bool = false, skip: Int = 0, saying message: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let path = write(text)
        expectDatasetError(expected, path: path, saying: message, sourceLocation: sourceLocation) {
            _ = try openEmbeddings(at: path, options: .init(hasHeaderLine: header, skippedColumns: skip))
        }
    }

    // MARK: What is read

    @Test(arguments: [
        "1,2\n3,4\n",  // the usual
        "1,2\n3,4",  // no line end at the end
        "1,2\r\n3,4\r\n",  // Windows line ends
        "1,2\n3,4\n\n\n  \n\r\n",  // blank lines at the end
        "\n\n1,2\n\n3,4\n",  // and before and between rows
        "\u{FEFF}1,2\n3,4\n",  // a byte order mark
        "  1 ,\t2\n3 , 4 \n",  // spaces and tabs around fields
        "\"1\",\" 2 \"\n\"3\",4\n",  // quoted values
        "1.0e0,0x1p1\n+3,4.\n",  // exponents, hexadecimal, signs, trailing dots
    ])
    func csvSpellingsOfTheSameRows(text: String) throws {
        let (values, dimension) = try read(text)
        #expect(values == [1, 2, 3, 4])
        #expect(dimension == 2)
    }

    @Test func tsvSeparatesByTabsAndTrimsSpaces() throws {
        #expect(try read("1\t2\n 3 \t4\r\n", format: .tsv).values == [1, 2, 3, 4])
        // In a TSV, a comma is no separator: "1,5" is not a number.
        #expect(throws: DatasetError.self) { try read("1,5\t2\n", format: .tsv) }
    }

    @Test func headerAndIdColumnsAreSkippedUnread() throws {
        // The id holds a separator, a doubled quote and a line end; the header has quotes and
        // a field spanning lines.
        let text = "\"id\",\"first\nvalue\",second\n\"a,\"\"b\"\"\nc\",1,2\nnot a number,3,4\n"
        let (values, dimension) = try read(text, header: true, skip: 1)
        #expect(values == [1, 2, 3, 4])
        #expect(dimension == 2)
        // Several leading columns, and a header declared but preceded by blank lines.
        #expect(try read("\n\nid,group,x\n7,b,0.5\n8,a,1.5\n", header: true, skip: 2).values == [0.5, 1.5])
    }

    @Test func oneColumnAndOneRow() throws {
        #expect(try read("1\n2\n3\n") == ([1, 2, 3], 1))
        #expect(try read("5,6,7") == ([5, 6, 7], 3))
    }

    /// A `.txt` table named with `format` is read as one, not as a list of shard files.
    @Test func aTextFileNamedAsATableIsNotAShardList() throws {
        let path = write("1\t2\n3\t4\n", name: "vectors.txt")
        let source = try openEmbeddings(at: path, options: .init(format: .tsv))
        #expect(try source.readAll() == [1, 2, 3, 4])
    }

    /// Tables in a directory are shards like any others, each with its header and ids skipped.
    @Test func tablesAreShardsToo() throws {
        let folder = directory.file("tables")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        Fixtures.writeBytes(folder + "/b.csv", Array("id,x,y\nq,5,6\n".utf8))
        Fixtures.writeBytes(folder + "/a.csv", Array("id,x,y\np,1,2\nr,3,4\n".utf8))
        let source = try openEmbeddings(at: folder, options: .init(hasHeaderLine: true, skippedColumns: 1))
        #expect(try source.readAll() == [1, 2, 3, 4, 5, 6])
        #expect(source.description.shards?.map(\.rowCount) == [2, 1])
    }

    /// The parse does not depend on where the reads cut the text.
    @Test func anyChunkingGivesTheSameRows() throws {
        let text = Array("\u{FEFF}id,x,y\r\n\"q,\"\"1\nz\",1.5,-2e3\r\n\r\nb, 3 ,\"4\"\r\nc,5,6".utf8)
        func parse(chunk: Int) throws -> [Float] {
            var values: [Float] = []
            var parser = DelimitedTextParser(path: "t.csv", separator: UInt8(ascii: ","), hasHeaderLine: true, skippedColumns: 1)
            let collect = { (batch: UnsafeBufferPointer<Float>) throws(DatasetError) in values += batch }
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: text.count, alignment: 1)
            defer { bytes.deallocate() }
            bytes.copyBytes(from: text)
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                try parser.consume(UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + chunk, bytes.count)]), flush: collect)
            }
            let shape = try parser.finish(flush: collect)
            #expect(shape.rowCount == 3 && shape.dimension == 2)
            return values
        }
        let whole = try parse(chunk: text.count)
        #expect(whole == [1.5, -2000, 3, 4, 5, 6])
        for chunk in [1, 2, 3, 5, 8, 13] {
            #expect(try parse(chunk: chunk) == whole, "chunks of \(chunk)")
        }
    }

    /// More values than the parser holds at once reach the copy in several writes.
    @Test func manyRowsAreWrittenInBatches() throws {
        let rows = DelimitedTextParser.outputValues / 3 + 5
        let text = (0..<rows).map { "\($0),\($0 % 7),-\($0 % 11)" }.joined(separator: "\n")
        let (values, dimension) = try read(text)
        #expect(dimension == 3)
        #expect(values.count == rows * 3)
        let last = rows - 1
        let expected: [Float] = [Float(last), Float(last % 7), -Float(last % 11)]
        #expect(Array(values.suffix(3)) == expected)
    }

    // MARK: What is refused

    @Test func raggedLinesNameTheLineAndTheCounts() {
        expectProblem(.raggedLine(line: 3, fieldCount: 2, expected: 3), in: "1,2,3\n4,5,6\n7,8\n", saying: "line 3 has 2 fields, expected 3")
        expectProblem(.raggedLine(line: 2, fieldCount: 3, expected: 2), in: "1,2\n3,4,5\n")
        // Lines are counted in the file: blank ones, and line ends inside quotes, count too.
        expectProblem(.raggedLine(line: 5, fieldCount: 1, expected: 2), in: "1,2\n\n\"a\nb\",2\n3\n", skip: 1)
        expectProblem(.raggedLine(line: 3, fieldCount: 4, expected: 3), in: "\"x\ny\",1,2\nz,3,4,5\n", skip: 1)
    }

    @Test func fieldsThatAreNotNumbersNameLineAndColumn() {
        expectProblem(.notANumber(line: 2, column: 2, text: "abc"), in: "1,2\n3,abc\n", saying: "line 2, column 2: 'abc' is not a number")
        expectProblem(.notANumber(line: 2, column: 3, text: "1.5x"), in: "1,2,3\n4,5,1.5x\n")
        expectProblem(.notANumber(line: 2, column: 2, text: ""), in: "1,2\n3,\n", saying: "line 2, column 2: empty field, expected a number")
        expectProblem(.notANumber(line: 2, column: 1, text: ""), in: "1,2\n\"\",2\n")
        // Columns count the skipped ones; a field starting after a quoted line end is on the later line.
        expectProblem(.notANumber(line: 4, column: 3, text: "zz"), in: "\"x\ny\",1,2\n\"p\nq\",3,zz\n", skip: 1)
    }

    @Test(arguments: ["nan", "NaN", "inf", "-Infinity", "1e39", "-3.5e38"])
    func nonFiniteValuesAreRefusedWhereTheyAre(text: String) {
        expectProblem(
            .nonFiniteField(line: 2, column: 1, text: text), in: "1,2\n\(text),4\n",
            saying: "line 2, column 1: '\(text)' is NaN, infinite or beyond float32's range; values must be finite")
    }

    @Test func aFirstLineOfNamesIsAHeaderOnlyWhenDeclared() {
        expectProblem(
            .headerLine(line: 1, column: 1, text: "id"), in: "id,x\n1,2\n",
            saying: "line 1, column 1: 'id' is not a number (is the line a header naming the columns?)")
        expectProblem(.headerLine(line: 3, column: 2, text: "x"), in: "\n\n1,x\n1,2\n")
        // Once a row has been read, a line of names is an error like any other.
        expectProblem(.notANumber(line: 2, column: 1, text: "id"), in: "1,2\nid,x\n")
    }

    @Test func filesWithoutRows() {
        expectProblem(.empty, in: "", saying: "the file is empty")
        expectProblem(.noRows, in: "\n \n\r\n\n", saying: "holds no line of numbers")
        expectProblem(.noRows, in: "\u{FEFF}")
        expectProblem(.noRows, in: "id,x,y\n", header: true)
        expectProblem(
            .noValueColumns(line: 1, fieldCount: 2, skipped: 2), in: "7,1\n8,2\n", skip: 2,
            saying: "line 1 has 2 fields, and the first 2 are skipped: no values remain")
    }

    @Test func malformedFields() throws {
        expectProblem(
            .malformedField(line: 1, column: 2, "the quoted field has no closing quote"), in: "1,\"2\n3,4\n",
            saying: "line 1, column 2: the quoted field has no closing quote")
        expectProblem(.malformedField(line: 2, column: 1, "text after the closing quote of a quoted field"), in: "1,2\n\"1\"x,2\n")
        expectProblem(.malformedField(line: 1, column: 1, "text after the closing quote of a quoted field"), in: "\"1\" 5,2\n")
        let long = String(repeating: "1", count: DelimitedTextParser.maximumFieldBytes + 1)
        expectProblem(
            .malformedField(line: 1, column: 2, "a field of more than 1024 bytes is too long to be a number"), in: "1,\(long)\n")
        // A long field in a skipped column is never held.
        #expect(try read("\(long)\(long),1\n", skip: 1).values == [1])
    }

    /// A field's text goes into the message escaped and cut, so that the message stays one line.
    @Test func messagesStayOneLine() {
        expectProblem(.notANumber(line: 2, column: 2, text: "\u{1B}[31mred"), in: "1,2\n1,\u{1B}[31mred\n")
        let long = String(repeating: "x", count: 60)
        expectProblem(.headerLine(line: 1, column: 1, text: String(repeating: "x", count: 40) + "…"), in: "\(long)\n")
        expectProblem(.notANumber(line: 2, column: 1, text: "1\0"), in: "1\n1\u{0}\n")
    }

    // MARK: The float32 copy

    /// The copy has no name from the moment it is open: nothing is left in the directory, even
    /// while the source is in use, and the rows stay readable.
    @Test func theCopyLeavesNothingBehind() throws {
        let path = write("1,2\n3,4\n")
        let copies = directory.file("copies")
        try FileManager.default.createDirectory(atPath: copies, withIntermediateDirectories: true)
        let source = try openEmbeddings(at: path, options: .init(temporaryDirectory: copies))
        #expect(try FileManager.default.contentsOfDirectory(atPath: copies).isEmpty)
        #expect(try source.readAll() == [1, 2, 3, 4])
    }

    @Test func aCopyThatCannotBeMadeNamesTheTable() {
        let path = write("1,2\n")
        let missing = directory.file("no-such-directory")
        #expect(throws: DatasetError(
            path: path, .system(operation: "creating a temporary file in \(missing)", message: "No such file or directory"))
        ) {
            _ = try openEmbeddings(at: path, options: .init(temporaryDirectory: missing))
        }
    }
}
