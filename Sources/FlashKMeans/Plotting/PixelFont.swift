/// A 5 × 7 bitmap font with just the characters chart labels need: digits, the signs
/// of numbers (`.`, `-`, `+`, `e`, `=`), a space, and the lowercase letters of
/// "inertia", "silhouette", "k" and "knee".
enum PixelFont {
    static let glyphWidth = 5
    static let glyphHeight = 7
    /// Pixels between glyphs, in glyph pixels.
    static let spacing = 1

    /// Whether `character` can be drawn; others are drawn as blanks.
    static func canDraw(_ character: Character) -> Bool { glyphs[character] != nil }

    /// Whether pixel (`column`, `row`) of `character` is set; `row` 0 is the top.
    static func isSet(_ character: Character, column: Int, row: Int) -> Bool {
        guard let glyph = glyphs[character] else { return false }
        return glyph[row][glyph[row].index(glyph[row].startIndex, offsetBy: column)] == "#"
    }

    /// Width of `text` in glyph pixels.
    static func width(of text: String) -> Int {
        text.isEmpty ? 0 : text.count * (glyphWidth + spacing) - spacing
    }

    private static let glyphs: [Character: [String]] = [
        "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
        "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
        "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
        "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
        "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
        "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
        "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
        "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
        "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
        ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
        "-": ["     ", "     ", "     ", " ### ", "     ", "     ", "     "],
        "+": ["     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "],
        "=": ["     ", "     ", "#####", "     ", "#####", "     ", "     "],
        " ": ["     ", "     ", "     ", "     ", "     ", "     ", "     "],
        "a": ["     ", "     ", " ### ", "    #", " ####", "#   #", " ####"],
        "e": ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "],
        "h": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
        "i": ["  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### "],
        "k": ["#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # "],
        "l": [" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "n": ["     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
        "o": ["     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "],
        "r": ["     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    "],
        "s": ["     ", "     ", " ####", "#    ", " ### ", "    #", "#### "],
        "t": [" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "],
        "u": ["     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #"],
    ]
}
