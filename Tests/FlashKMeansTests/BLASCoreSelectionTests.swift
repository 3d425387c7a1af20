import Testing
import FlashKMeans

@Suite struct BLASCoreSelectionTests {
    static let avx512: Set<String> = ["avx2", "avx512f", "avx512bw", "avx512dq", "avx512vl"]

    @Test func intelAVX512MistakenForHaswellGetsSkylakeX() {
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Haswell", cpuVendor: "GenuineIntel", cpuFlags: Self.avx512, environment: [:]) == "SkylakeX")
    }

    @Test func everythingElseIsLeftAlone() {
        // OpenBLAS already chose AVX-512 kernels.
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Cooperlake", cpuVendor: "GenuineIntel", cpuFlags: Self.avx512, environment: [:]) == nil)
        // AMD: measured no gain.
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Haswell", cpuVendor: "AuthenticAMD", cpuFlags: Self.avx512, environment: [:]) == nil)
        // No AVX-512.
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Haswell", cpuVendor: "GenuineIntel", cpuFlags: ["avx2"], environment: [:]) == nil)
        // The user's choice wins.
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Haswell", cpuVendor: "GenuineIntel", cpuFlags: Self.avx512, environment: ["OPENBLAS_CORETYPE": "Haswell"]) == nil)
        #expect(BLASCoreSelection.recommendedCoreType(
            currentCore: "Haswell", cpuVendor: "GenuineIntel", cpuFlags: Self.avx512, environment: ["FLASHKMEANS_KEEP_BLAS_CORE": "1"]) == nil)
    }

    #if arch(x86_64) && os(Linux)
    @Test func thisMachineIsDescribed() {
        let cpu = BLASCoreSelection.cpuInformation()
        #expect(!cpu.vendor.isEmpty)
        #expect(cpu.flags.contains("sse2"))
        #expect(!BLAS.coreName.isEmpty)
    }
    #endif
}
