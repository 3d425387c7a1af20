#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ElbowCurve {
    /// The curve drawn as a PNG: inertia against k in the upper panel, the silhouette score
    /// against k in the lower one (points where it is undefined left out), and the knee as
    /// a dashed vertical line through both, labelled `knee k=…`.
    ///
    /// - Parameters:
    ///   - width: Pixels; the default is 800, and at least 320 is needed for the labels.
    ///   - height: Pixels; the default is 640, and at least 320.
    /// - Returns: The bytes of a PNG file (``PNGEncoder``).
    /// - Complexity: O(width · height + points).
    public func png(width: Int = 800, height: Int = 640) -> [UInt8] {
        precondition(width >= 320 && height >= 320, "a chart needs at least 320 × 320 pixels")
        let palette: [PNGEncoder.Color] = [
            .init(red: 255, green: 255, blue: 255), // background
            .init(red: 0, green: 0, blue: 0), // axes and labels
            .init(red: 225, green: 225, blue: 225), // grid
            .init(red: 31, green: 119, blue: 180), // inertia
            .init(red: 230, green: 120, blue: 20), // silhouette
            .init(red: 120, green: 120, blue: 120), // knee
        ]
        var raster = Raster(width: width, height: height, background: 0)
        let left = 120
        let right = width - 30
        let top = 40
        let gap = 80
        let bottom = height - 60
        let panelHeight = (bottom - top - gap) / 2
        let ks = points.map { Double($0.clusterCount) }
        let kAxis = ChartAxis(low: ks.min() ?? 0, high: ks.max() ?? 1, ticks: points.count <= 12 ? ks : nil)
        func x(_ k: Double) -> Double { Double(left) + (k - kAxis.low) / (kAxis.high - kAxis.low) * Double(right - left) }

        let panels: [(title: String, values: [Double?], color: UInt8, top: Int)] = [
            ("inertia", points.map(\.inertia), 3, top),
            ("silhouette", points.map(\.silhouette), 4, top + panelHeight + gap),
        ]
        for panel in panels {
            let panelBottom = panel.top + panelHeight
            let known = panel.values.compactMap { $0 }
            let valueAxis = ChartAxis(low: known.min() ?? 0, high: known.max() ?? 1, ticks: nil)
            func y(_ value: Double) -> Double {
                Double(panelBottom) - (value - valueAxis.low) / (valueAxis.high - valueAxis.low) * Double(panelHeight)
            }
            // Grid and tick labels first, so that the curve is drawn over them.
            for tick in valueAxis.tickValues {
                let row = y(tick)
                raster.line(from: Double(left), row, to: Double(right), row, 2)
                raster.text(valueAxis.label(tick), x: left - 10, y: Int(row) - 7, anchor: .right, 1)
            }
            for tick in kAxis.tickValues {
                raster.line(from: x(tick), Double(panel.top), to: x(tick), Double(panelBottom), 2)
                raster.line(from: x(tick), Double(panelBottom), to: x(tick), Double(panelBottom + 5), thickness: 2, 1)
                raster.text(kAxis.label(tick), x: Int(x(tick)), y: panelBottom + 10, anchor: .center, 1)
            }
            raster.line(from: Double(left), Double(panel.top), to: Double(left), Double(panelBottom), thickness: 2, 1)
            raster.line(from: Double(left), Double(panelBottom), to: Double(right), Double(panelBottom), thickness: 2, 1)
            raster.text(panel.title, x: left, y: panel.top - 24, panel.color)
            if let kneeIndex {
                let column = x(ks[kneeIndex])
                raster.line(from: column, Double(panel.top), to: column, Double(panelBottom), thickness: 2, dash: 6, 5)
            }
            var previous: (x: Double, y: Double)?
            for (k, value) in zip(ks, panel.values) {
                guard let value else {
                    previous = nil
                    continue
                }
                let point = (x: x(k), y: y(value))
                if let previous { raster.line(from: previous.x, previous.y, to: point.x, point.y, thickness: 3, panel.color) }
                previous = point
            }
            for (k, value) in zip(ks, panel.values) {
                if let value { raster.disc(x: x(k), y: y(value), radius: 5, panel.color) }
            }
        }
        if let kneeClusterCount {
            raster.text("knee k=\(kneeClusterCount)", x: right, y: top - 24, anchor: .right, 5)
        }
        raster.text("k", x: (left + right) / 2, y: bottom + 36, anchor: .center, 1)
        return PNGEncoder.encode(width: width, height: height, palette: palette, pixels: raster.pixels)
    }
}

/// A linear axis over a data range, widened to whole steps of a round tick interval
/// (1, 2 or 5 times a power of ten) unless its ticks are given.
private struct ChartAxis {
    let low: Double
    let high: Double
    let tickValues: [Double]
    private let step: Double

    /// - Parameters:
    ///   - low: The smallest value to show.
    ///   - high: The largest.
    ///   - ticks: Where the ticks go, within `low...high`; `nil` for about five round ones.
    init(low: Double, high: Double, ticks: [Double]?) {
        var (low, high) = (low, high)
        if high <= low {
            // One value, or none: a range around it.
            let pad = low == 0 ? 1 : abs(low) / 10
            (low, high) = (low - pad, high + pad)
        }
        if let ticks {
            self.low = low
            self.high = high
            tickValues = ticks
            step = 1
            return
        }
        let rough = (high - low) / 4
        let power = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / power
        let step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
        let first = (low / step).rounded(.down) * step
        let last = (high / step).rounded(.up) * step
        self.low = first
        self.high = last
        self.step = step
        tickValues = (0...Int(((last - first) / step).rounded())).map { first + Double($0) * step }
    }

    /// A tick's label: plain decimals to the step's precision, or `1.5e+06` style for
    /// large or tiny magnitudes.
    func label(_ value: Double) -> String {
        let magnitude = max(abs(low), abs(high))
        if magnitude >= 1e5 || (magnitude < 1e-3 && magnitude > 0) { return cFormatted("%.3g", value) }
        let decimals = max(0, Int(-log10(step).rounded(.down)))
        let text = fixedDecimals(value, places: decimals)
        // "-0.0" from rounding reads as a mistake.
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}
