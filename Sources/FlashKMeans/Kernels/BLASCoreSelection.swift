#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which OpenBLAS kernel family to ask for.
///
/// Debian's OpenBLAS 0.3.21 takes Intel Sapphire Rapids and other recent AVX-512 Xeons
/// for Haswell and runs its AVX2 kernels; `OPENBLAS_CORETYPE=SkylakeX` selects the
/// AVX-512 ones, reported markedly faster there. OpenBLAS reads the variable once, when
/// it loads, so the command sets it and starts itself again. On AMD Zen 4 (the machine
/// FlashKMeans is measured on) OpenBLAS already picks its Cooperlake kernels, and forcing
/// Haswell, SkylakeX or Cooperlake made no difference (1.39–1.44 s per iteration on
/// 1M × 128, k = 1024), so nothing is changed there.
public enum BLASCoreSelection {
    /// The core type to set, or `nil` to leave OpenBLAS's own choice.
    ///
    /// - Parameters:
    ///   - currentCore: What OpenBLAS picked (``BLAS/coreName``).
    ///   - cpuVendor: `vendor_id` from `/proc/cpuinfo`.
    ///   - cpuFlags: `flags` from `/proc/cpuinfo`.
    ///   - environment: The process environment; an explicit `OPENBLAS_CORETYPE` or
    ///     `FLASHKMEANS_KEEP_BLAS_CORE` is always respected.
    /// - Returns: `SkylakeX` when OpenBLAS took an AVX-512 Intel CPU for Haswell; `nil`
    ///   otherwise, or when the environment already decides.
    public static func recommendedCoreType(
        currentCore: String, cpuVendor: String, cpuFlags: Set<String>, environment: [String: String]
    ) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["FLASHKMEANS_KEEP_BLAS_CORE"] == nil else { return nil }
        guard currentCore.lowercased() == "haswell", cpuVendor == "GenuineIntel",
              cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"])
        else { return nil }
        return "SkylakeX"
    }

    /// The vendor and flags of the first CPU in `/proc/cpuinfo` (empty elsewhere).
    /// - Returns: `vendor_id` (such as `GenuineIntel`) and the set of `flags`; an empty
    ///   string and set where the file cannot be read.
    public static func cpuInformation() -> (vendor: String, flags: Set<String>) {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return ("", []) }
        var vendor = ""
        var flags = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { String($0.trimmingWhitespace) }
            guard parts.count == 2 else { continue }
            if parts[0] == "vendor_id", vendor.isEmpty { vendor = parts[1] }
            if parts[0] == "flags", flags.isEmpty { flags = Set(parts[1].split(separator: " ").map(String.init)) }
            if !vendor.isEmpty, !flags.isEmpty { break }
        }
        return (vendor, flags)
    }
}
