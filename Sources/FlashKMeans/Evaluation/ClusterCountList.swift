/// The values of k an elbow run fits, as a user writes them: `2,4,8,16`, a range
/// `1...32`, a range with a step `1...32:2`, or several of these joined by commas.
///
/// The values are kept in ascending order, so that a curve drawn through them runs from
/// left to right; a value written twice is refused rather than fitted twice.
public struct ClusterCountList: Sendable, Equatable, CustomStringConvertible {
    /// The distinct values, ascending, each at least 1.
    public let values: [Int]

    /// The most values one list may hold: each is a whole k-means run, and a range such as
    /// `1...100000` is far more likely a slip than a plan.
    public static let maximumCount = 1000

    /// Why a list was refused, worded for the person who typed it: each message starts with
    /// "k", so that a command can put its flag's dashes before it.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public let description: String
    }

    /// Parses `text`.
    ///
    /// - Parameter text: Comma-separated items, each an integer `k`, a range `low...high`
    ///   (both ends included) or `low...high:step`. Spaces around items are ignored.
    /// - Throws: ``ParseError`` naming the item at fault: an empty list or item, something
    ///   that is not a whole number, a value below 1, a range whose end is below its start,
    ///   a step below 1, a value given twice, or more than ``maximumCount`` values.
    /// - Complexity: O(values), with values bounded by ``maximumCount``.
    public init(parsing text: String) throws(ParseError) {
        func refuse(_ message: String) -> ParseError { ParseError(description: message) }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard !(items.count == 1 && items[0].isEmpty) else { throw refuse("k needs at least one value, such as 2,4,8 or 1...16") }
        var seen = Set<Int>()
        for item in items {
            guard !item.isEmpty else { throw refuse("k has an empty item in '\(text)'") }
            let values: StrideThrough<Int>
            if let dots = item.firstRange(of: "...") {
                let low = String(item[..<dots.lowerBound]).trimmingSpaces
                var high = String(item[dots.upperBound...]).trimmingSpaces
                var step = "1"
                if let colon = high.firstIndex(of: ":") {
                    step = String(high[high.index(after: colon)...]).trimmingSpaces
                    high = String(high[..<colon]).trimmingSpaces
                }
                guard let start = Int(low), let end = Int(high) else {
                    throw refuse("k range '\(item)' must be written low...high or low...high:step with whole numbers")
                }
                guard let by = Int(step), by >= 1 else { throw refuse("k range '\(item)' needs a step of at least 1") }
                guard start >= 1 else { throw refuse("k values must be at least 1, got \(start) in '\(item)'") }
                guard end >= start else { throw refuse("k range '\(item)' ends below its start") }
                guard (end - start) / by < Self.maximumCount else {
                    throw refuse("k asks for more than \(Self.maximumCount) values with '\(item)'")
                }
                values = stride(from: start, through: end, by: by)
            } else {
                guard let value = Int(item) else {
                    throw refuse("k values must be whole numbers or ranges such as 1...16, got '\(item)'")
                }
                guard value >= 1 else { throw refuse("k values must be at least 1, got \(value)") }
                values = stride(from: value, through: value, by: 1)
            }
            for value in values {
                guard seen.insert(value).inserted else { throw refuse("k lists \(value) more than once") }
                guard seen.count <= Self.maximumCount else { throw refuse("k asks for more than \(Self.maximumCount) values") }
            }
        }
        self.values = seen.sorted()
    }

    /// The values joined by commas, as the list could be written back.
    public var description: String { values.map(String.init).joined(separator: ",") }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (Foundation-free).
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
