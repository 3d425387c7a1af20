/// Why the iterations stopped.
public enum StopReason: String, Sendable, Codable {
    /// An assignment left every label unchanged.
    case converged
    /// The relative inertia decrease fell below the tolerance.
    case tolerance
    /// The iteration limit was reached; a final assignment made the labels match the centroids.
    case maxIterations = "max-iterations"
}
