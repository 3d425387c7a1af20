#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads this process's memory counters from `/proc/self/status` (Linux).
///
/// Read after every iteration, so it parses the file in a stack buffer and allocates
/// nothing: steady-state iterations stay free of mallocs.
enum ProcessMemory {
    struct Reading {
        var peakResident = 0
        var anonymous = 0
        var fileBacked = 0
    }

    static func read() -> Reading {
        let descriptor = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return Reading() }
        defer { close(descriptor) }
        // An inline array stays on the stack; `withUnsafeTemporaryAllocation` moves buffers
        // over 1 KiB to the heap.
        var storage = InlineArray<4096, UInt8>(repeating: 0)
        return withUnsafeMutableBytes(of: &storage) { bytes in
            let buffer = bytes.bindMemory(to: UInt8.self)
            var length = 0
            while length < buffer.count {
                let count = readBytes(descriptor, buffer.baseAddress! + length, buffer.count - length)
                if count <= 0 { break }
                length += count
            }
            var reading = Reading()
            var lineStart = 0
            for index in 0..<length where buffer[index] == UInt8(ascii: "\n") {
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<index])
                if let value = kilobytes(in: line, key: "VmHWM:") { reading.peakResident = value * 1024 }
                if let value = kilobytes(in: line, key: "RssAnon:") { reading.anonymous = value * 1024 }
                if let value = kilobytes(in: line, key: "RssFile:") { reading.fileBacked = value * 1024 }
                lineStart = index + 1
            }
            return reading
        }
    }

    /// The number on a line such as `RssAnon:   1234 kB`, if the line starts with `key`.
    private static func kilobytes(in line: UnsafeBufferPointer<UInt8>, key: StaticString) -> Int? {
        let keyLength = key.utf8CodeUnitCount
        guard line.count > keyLength else { return nil }
        for index in 0..<keyLength where line[index] != key.utf8Start[index] { return nil }
        var value = 0
        var sawDigit = false
        for byte in line[keyLength...] {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                sawDigit = true
            } else if sawDigit {
                break
            }
        }
        return sawDigit ? value : nil
    }
}

/// `read(2)`, under a name that does not clash with ``ProcessMemory/read()``.
private func readBytes(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
