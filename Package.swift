// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Pulse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pulse", targets: ["pulse"]),
        .library(name: "PulseCore", targets: ["PulseCore"]),
        .library(name: "PulseStore", targets: ["PulseStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The domain: survey definitions, periods, scoring, statistics, report models
        // and renderers. Values in, values out: no files, no database, no clock.
        .target(
            name: "PulseCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Storage on one SQLite file through GRDB.
        .target(
            name: "PulseStore",
            dependencies: [
                "PulseCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "pulse",
            dependencies: [
                "PulseCore", "PulseStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PulseCoreTests", dependencies: ["PulseCore"]),
        .testTarget(name: "PulseStoreTests", dependencies: ["PulseStore", "PulseCore"]),
        .testTarget(
            name: "PulseCLITests",
            dependencies: ["PulseCore"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
