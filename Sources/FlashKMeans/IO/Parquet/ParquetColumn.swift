/// A leaf column of a Parquet schema, with what its levels mean: the embedding column is a
/// list of floats, stored as one leaf under exactly one repeated node.
///
/// pyarrow and Spark write `list<float>`, `large_list<float>` and `fixed_size_list<float, d>`
/// alike, as the three-level `optional group emb (LIST) { repeated group list { optional
/// float element; } }`; older writers use two levels (`repeated float array` directly under
/// the list). Both are read through their levels alone, so either works, with or without
/// nullable nodes.
struct ParquetColumn {
    /// The leaf's index among the schema's leaves, depth first: its chunk's index in a row group.
    var index: Int
    /// The name users choose the column by: the nodes above the repeated one (`emb`, or
    /// `outer.emb` inside a struct); the leaf's whole path also selects it.
    var name: String
    /// The leaf's whole dotted path (`emb.list.element`).
    var path: String
    /// How the values are stored, or `nil` when the leaf is not a float type.
    var element: StoredElement?
    /// The number of repeated nodes on the path: 1 for a list.
    var repeatedCount: Int
    /// The highest definition level: a present value.
    var maxDefinitionLevel: Int
    /// The definition level of an empty list: below it, the list (or a struct above it) is null;
    /// between it and ``maxDefinitionLevel``, an element is null.
    var listDefinitionLevel: Int
    /// Parquet's physical type code of the leaf, for messages.
    var physicalType: Int32?

    /// Whether the column can be read as rows of floats.
    var isFloatList: Bool { repeatedCount == 1 && element != nil }

    /// Deepest schema read. Real schemas nest a few levels; levels are kept in a byte.
    static let maximumDepth = 32

    /// Every leaf of `schema`, in column order.
    /// - Throws: ``ParquetFailure`` when the schema's child counts do not describe a tree.
    static func leaves(of schema: [ParquetMetadata.SchemaElement]) throws -> [ParquetColumn] {
        guard let root = schema.first else { throw ParquetFailure("the schema is empty") }
        var leaves: [ParquetColumn] = []
        var next = 1
        var path: [Int] = []
        func visit(_ element: Int) throws {
            guard path.count < maximumDepth else { throw ParquetFailure("the schema nests deeper than \(maximumDepth) levels") }
            path.append(element)
            defer { path.removeLast() }
            let node = schema[element]
            if node.childCount == 0 && node.physicalType != nil {
                leaves.append(column(at: path, index: leaves.count, schema: schema))
                return
            }
            for _ in 0..<node.childCount {
                guard next < schema.count else { throw ParquetFailure("the schema declares more nodes than it holds") }
                next += 1
                try visit(next - 1)
            }
        }
        for _ in 0..<root.childCount {
            guard next < schema.count else { throw ParquetFailure("the schema declares more nodes than it holds") }
            next += 1
            try visit(next - 1)
        }
        return leaves
    }

    private static func column(at path: [Int], index: Int, schema: [ParquetMetadata.SchemaElement]) -> ParquetColumn {
        var definition = 0
        var repeated = 0
        var listDefinition = 0
        var namesAbove: [String] = []
        for node in path.map({ schema[$0] }) {
            if repeated == 0 && node.repetition != 2 {
                namesAbove.append(node.name)
                listDefinition = definition + (node.repetition == 1 ? 1 : 0)
            }
            switch node.repetition {
            case 1: definition += 1
            case 2:
                definition += 1
                repeated += 1
            default: break
            }
        }
        let names = path.map { schema[$0].name }
        let leaf = schema[path.last!]
        let element: StoredElement?
        switch (leaf.physicalType, leaf.typeLength) {
        case (4?, _): element = .float32
        case (5?, _): element = .float64
        case (7?, 2?) where leaf.isFloat16: element = .float16
        default: element = nil
        }
        return ParquetColumn(
            index: index, name: namesAbove.isEmpty ? names.joined(separator: ".") : namesAbove.joined(separator: "."),
            path: names.joined(separator: "."), element: element, repeatedCount: repeated, maxDefinitionLevel: definition,
            listDefinitionLevel: namesAbove.isEmpty ? 0 : listDefinition, physicalType: leaf.physicalType)
    }
}
