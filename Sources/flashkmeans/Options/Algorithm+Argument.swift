import ArgumentParser
import FlashKMeans

extension Algorithm: ExpressibleByArgument {}
extension Metric: ExpressibleByArgument {}
