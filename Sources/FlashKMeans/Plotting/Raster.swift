/// A small canvas of palette indices for drawing charts: rectangles, thick and dashed
/// lines, discs and text in ``PixelFont``. Drawing outside the canvas is clipped.
struct Raster {
    let width: Int
    let height: Int
    /// `height × width` palette indices, row-major, top row first.
    private(set) var pixels: [UInt8]

    /// A canvas filled with `background`.
    init(width: Int, height: Int, background: UInt8) {
        precondition(width >= 1 && height >= 1)
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: background, count: width * height)
    }

    /// The colour at (`x`, `y`); `y` 0 is the top row.
    func pixel(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }

    mutating func set(x: Int, y: Int, _ color: UInt8) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        pixels[y * width + x] = color
    }

    /// Fills the rectangle with corners (`x`, `y`) and (`x + w − 1`, `y + h − 1`).
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: UInt8) {
        for row in max(0, y)..<min(height, y + h) where w > 0 {
            for column in max(0, x)..<min(width, x + w) { pixels[row * width + column] = color }
        }
    }

    /// A disc of `radius` pixels around (`x`, `y`).
    mutating func disc(x: Double, y: Double, radius: Double, _ color: UInt8) {
        let reach = Int(radius.rounded(.up))
        let (centerX, centerY) = (Int(x.rounded()), Int(y.rounded()))
        for dy in -reach...reach {
            for dx in -reach...reach where Double(dx * dx + dy * dy) <= radius * radius + 0.5 {
                set(x: centerX + dx, y: centerY + dy, color)
            }
        }
    }

    /// A line from (`x0`, `y0`) to (`x1`, `y1`), `thickness` pixels wide; with `dash`, drawn
    /// `dash` pixels on and `dash` off.
    mutating func line(from x0: Double, _ y0: Double, to x1: Double, _ y1: Double, thickness: Int = 1, dash: Int? = nil, _ color: UInt8) {
        let steps = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)))
        let low = -(thickness - 1) / 2
        let high = thickness / 2
        for step in 0...steps {
            if let dash, (step / dash) % 2 == 1 { continue }
            let t = Double(step) / Double(steps)
            let x = Int((x0 + (x1 - x0) * t).rounded())
            let y = Int((y0 + (y1 - y0) * t).rounded())
            for dy in low...high { for dx in low...high { set(x: x + dx, y: y + dy, color) } }
        }
    }

    /// How text is placed against its point.
    enum Anchor { case left, center, right }

    /// `text` with its top at `y`, its left edge, middle or right edge at `x`, each font
    /// pixel drawn as a `scale × scale` square.
    mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, anchor: Anchor = .left, _ color: UInt8) {
        let width = PixelFont.width(of: text) * scale
        var left = x
        switch anchor {
        case .left: break
        case .center: left -= width / 2
        case .right: left -= width
        }
        for (index, character) in text.enumerated() {
            let glyphLeft = left + index * (PixelFont.glyphWidth + PixelFont.spacing) * scale
            for row in 0..<PixelFont.glyphHeight {
                for column in 0..<PixelFont.glyphWidth where PixelFont.isSet(character, column: column, row: row) {
                    fill(x: glyphLeft + column * scale, y: y + row * scale, width: scale, height: scale, color)
                }
            }
        }
    }
}
