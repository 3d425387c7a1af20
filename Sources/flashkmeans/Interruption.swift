import FlashKMeans
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The write end of the pipe the signal handler writes to; -1 until ``Interruption`` is installed.
nonisolated(unsafe) private var interruptionPipe: Int32 = -1

/// SIGINT and SIGTERM while a command has output under way: what it made so far is removed
/// (``OutputDirectory/abandon()``, ``StagedFile/abandon()``), one `error:` line says what became
/// of the output, and the process exits with 128 + the signal (130, 143).
///
/// A signal handler may do almost nothing safely (no locks, no allocation), so the handler only
/// writes the signal's number to a pipe; a thread blocked on the pipe does the cleaning.
enum Interruption {
    /// Undoes something and says what became of it, or returns nil when there is nothing to say.
    typealias Cleanup = @Sendable () -> String?

    private final class Registry: @unchecked Sendable {
        /// Recursive, so that ``Interruption/registering(_:)`` can hold it around registrations.
        let lock = NSRecursiveLock()
        var cleanups: [Int: Cleanup] = [:]
        var nextToken = 0
        var installed = false
        /// Set once a signal's cleanup has begun; from then on only that thread ends the process.
        var interrupting = false
        var handlingThread: pthread_t?
        var isHandlingThread: Bool { handlingThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    private static let registry = Registry()

    /// Runs `cleanup` if SIGINT or SIGTERM arrives before ``remove(_:)``.
    /// - Returns: A token for ``remove(_:)``.
    @discardableResult
    static func onInterrupt(_ cleanup: @escaping Cleanup) -> Int {
        registry.lock.withLock {
            installIfNeeded()
            registry.nextToken += 1
            registry.cleanups[registry.nextToken] = cleanup
            return registry.nextToken
        }
    }

    /// Runs `body`, which makes something to clean up and registers its cleanup, as one step
    /// for a signal: the handling thread waits for it to finish, so that nothing `body` made
    /// can be left unregistered (a lock file, a temporary).
    static func registering<Result>(_ body: () throws -> Result) rethrows -> Result {
        registry.lock.lock()
        if registry.interrupting, !registry.isHandlingThread {
            // The signal's cleanup has already begun, and would not see what `body` makes
            // (a checkpoint's temporary): wait for it to end the process instead.
            registry.lock.unlock()
            while true { pause() }
        }
        defer { registry.lock.unlock() }
        installIfNeeded()
        return try body()
    }

    static func remove(_ token: Int) {
        _ = registry.lock.withLock { registry.cleanups.removeValue(forKey: token) }
    }

    /// Abandons `directory` on SIGINT or SIGTERM. Held weakly: a directory the command has let go
    /// of has already cleaned up after itself, and only whether its results went in is told.
    static func protect(_ directory: OutputDirectory) {
        let path = directory.path
        let placement = directory.placement
        onInterrupt { [weak directory] in note(abandoning: directory, path: path, placement: placement) }
    }

    /// What became of an output directory stopped by a signal: `directory`, if the command still
    /// holds it, is abandoned; one it let go of says only whether its results went in.
    static func note(abandoning directory: OutputDirectory?, path: String, placement: ResultsPlacement) -> String? {
        switch directory?.abandon() ?? (placement.resultsInPlace ? .resultsInPlace : nil) {
        case .nothingChanged: "\(path) left as it was"
        case .resultsInPlace: "the results were already in \(path)"
        case nil: nil
        }
    }

    /// Abandons `file` on SIGINT or SIGTERM.
    static func protect(_ file: StagedFile) {
        onInterrupt { [weak file] in
            guard let file else { return nil }
            switch file.abandon() {
            case .nothingChanged: return "\(file.destination) not written"
            case .resultsInPlace: return "\(file.destination) was already complete"
            }
        }
    }

    /// Called with the registry's lock held.
    private static func installIfNeeded() {
        guard !registry.installed else { return }
        registry.installed = true
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        interruptionPipe = ends[1]
        let readEnd = ends[0]
        Thread.detachNewThread { waitForSignal(on: readEnd) }
        // The main thread may reach exit() while a signal's cleanup runs (it fails once its files
        // vanish); exiting then would cut the cleanup short and report the wrong status.
        atexit {
            let interrupting = Interruption.registry.lock.withLock { Interruption.registry.interrupting }
            while interrupting { pause() }
        }

        let handler: @convention(c) (Int32) -> Void = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(interruptionPipe, &byte, 1)
        }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in [SIGINT, SIGTERM] {
            var current = sigaction()
            sigaction(signal, nil, &current)
            // Shells start background jobs with SIGINT ignored, so that the terminal's Ctrl-C
            // spares them; such a run stays immune.
            #if os(Linux)
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1 /* SIG_IGN */ { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handler
            #else
            if unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self) == 1 /* SIG_IGN */ { continue }
            var action = sigaction()
            action.__sigaction_u.__sa_handler = handler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
            sigaddset(&unblocked, signal)
        }
        // A parent may start us with these blocked (Foundation's Process passes on its thread's
        // mask); they would then wait forever instead of stopping the run.
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    private static func waitForSignal(on readEnd: Int32) -> Never {
        var byte: UInt8 = 0
        while read(readEnd, &byte, 1) != 1 {}
        let signal = Int32(byte)
        // Waits for a registration under way (see `registering`), then takes over the ending.
        let cleanups = registry.lock.withLock {
            registry.interrupting = true
            registry.handlingThread = pthread_self()
            return registry.cleanups.sorted { $0.key < $1.key }.map(\.value)
        }
        // From here on the main thread may fail (its files vanish) and try to report it, or
        // finish and print its summary; it must not, since this thread reports the run.
        let standardError = dup(2)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, 1)
            dup2(null, 2)
        }
        let notes = cleanups.compactMap { $0() }
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        // A progress bar may occupy the terminal's last line.
        let clear = isatty(standardError) == 1 ? "\r\u{1B}[K" : ""
        let line = clear + "error: interrupted by \(name)" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")) + "\n"
        _ = line.withCString { write(standardError, $0, strlen($0)) }
        _exit(128 + signal)
    }
}
