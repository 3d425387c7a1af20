import ArgumentParser
import FlashKMeans

extension Algorithm: ExpressibleByArgument {}
