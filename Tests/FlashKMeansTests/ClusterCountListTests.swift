import FlashKMeans
import Testing

@Suite struct ClusterCountListTests {
    @Test func parsesListsAndRanges() throws {
        #expect(try ClusterCountList(parsing: "2,4,8,16").values == [2, 4, 8, 16])
        #expect(try ClusterCountList(parsing: "1...5").values == [1, 2, 3, 4, 5])
        #expect(try ClusterCountList(parsing: "1...10:3").values == [1, 4, 7, 10])
        #expect(try ClusterCountList(parsing: "2...9:4").values == [2, 6])
        #expect(try ClusterCountList(parsing: " 8, 2 ,4 ").values == [2, 4, 8])
        #expect(try ClusterCountList(parsing: "1...3,8,16...17").values == [1, 2, 3, 8, 16, 17])
        #expect(try ClusterCountList(parsing: "7").values == [7])
        #expect(try ClusterCountList(parsing: "3,1...2").description == "1,2,3")
    }

    @Test(arguments: [
        ("", "k needs at least one value"),
        ("2,,4", "k has an empty item in '2,,4'"),
        ("2,4,", "k has an empty item"),
        ("a", "k values must be whole numbers or ranges such as 1...16, got 'a'"),
        ("1..5", "got '1..5'"),
        ("2.5", "got '2.5'"),
        ("0", "k values must be at least 1, got 0"),
        ("-3", "k values must be at least 1, got -3"),
        ("0...4", "k values must be at least 1, got 0 in '0...4'"),
        ("5...2", "k range '5...2' ends below its start"),
        ("1...", "k range '1...' must be written low...high or low...high:step with whole numbers"),
        ("1...10:0", "k range '1...10:0' needs a step of at least 1"),
        ("1...10:x", "needs a step of at least 1"),
        ("2,2", "k lists 2 more than once"),
        ("1...3,2", "k lists 2 more than once"),
        ("1...5000", "k asks for more than 1000 values with '1...5000'"),
    ])
    func refusesWithOneLine(text: String, message: String) {
        #expect {
            _ = try ClusterCountList(parsing: text)
        } throws: { error in
            let description = (error as? ClusterCountList.ParseError)?.description ?? ""
            return description.contains(message) && !description.contains("\n")
        }
    }
}
