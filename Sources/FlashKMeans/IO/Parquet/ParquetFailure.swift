/// A problem the Parquet decoders found, without the file's name: ``ParquetReader`` and
/// ``ParquetSource`` turn it into a ``DatasetError`` naming the file.
struct ParquetFailure: Error {
    /// What is wrong, as the message's text after the path.
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
