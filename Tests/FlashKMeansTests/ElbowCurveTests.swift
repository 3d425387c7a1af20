import FlashKMeans
import Testing

@Suite struct ElbowCurveTests {
    static let curve = ElbowCurve(points: [
        .init(clusterCount: 1, inertia: 100, iterations: 2, seconds: 0.5, silhouette: nil),
        .init(clusterCount: 2, inertia: 50, iterations: 7, seconds: 0.25, silhouette: 0.5),
        .init(clusterCount: 3, inertia: 10, iterations: 9, seconds: 1.125, silhouette: 0.75),
        .init(clusterCount: 4, inertia: 8, iterations: 12, seconds: 2, silhouette: 0.625),
        .init(clusterCount: 5, inertia: 7.5, iterations: 30, seconds: 3, silhouette: -0.03125),
    ])

    @Test func csvHasEveryColumnAndMarksTheKnee() {
        #expect(Self.curve.kneeClusterCount == 3)
        #expect(Self.curve.csv == """
            k,inertia,iterations,seconds,silhouette,knee
            1,100.0,2,0.5,,0
            2,50.0,7,0.25,0.5,0
            3,10.0,9,1.125,0.75,1
            4,8.0,12,2.0,0.625,0
            5,7.5,30,3.0,-0.03125,0

            """)
    }

    @Test func tableMarksTheKnee() {
        let lines = Self.curve.table.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0] == "     k         inertia  iterations    seconds  silhouette")
        #expect(lines[1] == "     1    1.000000e+02           2      0.500           -")
        #expect(lines[3] == "     3    1.000000e+01           9      1.125      0.7500  <- knee")
        #expect(lines.filter { $0.hasSuffix("<- knee") }.count == 1)
    }

    /// The drawing is checked where it must be: both curves' colours present, a point's disc
    /// where k = 1 and the largest inertia put it, the knee's dashed line at k = 3.
    @Test func plotDrawsBothCurvesAndTheKnee() throws {
        let image = try PNGEncoderTests.decode(Self.curve.png(width: 800, height: 640))
        #expect(image.width == 800 && image.height == 640)
        let colors = Set(image.pixels)
        let inertia = try #require(image.palette.firstIndex(of: .init(red: 31, green: 119, blue: 180)))
        let silhouette = try #require(image.palette.firstIndex(of: .init(red: 230, green: 120, blue: 20)))
        let knee = try #require(image.palette.firstIndex(of: .init(red: 120, green: 120, blue: 120)))
        #expect(colors.contains(UInt8(inertia)) && colors.contains(UInt8(silhouette)) && colors.contains(UInt8(knee)))
        // Plot area: x from 120 to 770 for k = 1...5; the inertia axis, 0...100, from y = 270 up
        // to y = 40; the silhouette panel from y = 350 to 580.
        func pixel(_ x: Int, _ y: Int) -> Int { Int(image.pixels[y * image.width + x]) }
        #expect(pixel(120 + 2, 40 + 1) == inertia)
        let kneeColumn = 120 + (770 - 120) / 2
        #expect((40..<270).contains { pixel(kneeColumn, $0) == knee })
        // No silhouette at k = 1: nothing orange in the lower panel's first column of points.
        #expect(!(350..<580).contains { pixel(121, $0) == silhouette })
    }
}
