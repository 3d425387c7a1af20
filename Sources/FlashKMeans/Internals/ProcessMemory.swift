import Foundation

/// Reads this process's memory counters from `/proc/self/status` (Linux).
enum ProcessMemory {
    struct Reading {
        var peakResident = 0
        var anonymous = 0
        var fileBacked = 0
    }

    static func read() -> Reading {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return Reading() }
        var reading = Reading()
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { continue }
            switch parts[0] {
            case "VmHWM:": reading.peakResident = kilobytes * 1024
            case "RssAnon:": reading.anonymous = kilobytes * 1024
            case "RssFile:": reading.fileBacked = kilobytes * 1024
            default: break
            }
        }
        return reading
    }
}
