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
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The domain: survey definitions, periods, scoring, statistics, report models
        // and renderers. Values in, values out: no files, no database, no clock.
        .target(
            name: "PulseCore",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Storage on one SQLite file through GRDB.
        .target(
            name: "PulseStore",
            dependencies: [
                "PulseCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API under GRDB, for the bulk import's bind-and-step loop.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // libcurl, for SMTP: typed wrappers around its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Messages (MIME, Mustache templates), transports (file, SMTP) and the outbox dispatcher.
        .target(
            name: "PulseMail",
            dependencies: [
                "PulseCore", "PulseStore", "CCurl",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("Templates/invitation.txt.mustache"),
                .embedInCode("Templates/invitation.html.mustache"),
            ]
        ),
        // The answer pages behind the personal links (`pulse serve`), on Hummingbird.
        .target(
            name: "PulseWeb",
            dependencies: [
                "PulseCore", "PulseStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [
                .embedInCode("Templates/survey.mustache"),
                .embedInCode("Templates/message.mustache"),
                .embedInCode("Templates/pulse.css"),
            ]
        ),
        // Storage on PostgreSQL through postgres-nio, for several servers on one database.
        .target(
            name: "PulsePostgres",
            dependencies: [
                "PulseCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What the commands do with the store, as a library: the reports, prep notes and
        // team reports the commands, the demo and the tests share.
        .target(
            name: "PulseService",
            dependencies: ["PulseCore"]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "pulse",
            dependencies: [
                "PulseCore", "PulseStore", "PulseMail", "PulseWeb", "PulseService", "PulsePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The reference server of the answer-page benchmark (Benchmarks/web.py).
        .executableTarget(
            name: "pulse-bench-fixed-page",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FixedPage"
        ),
        // Fixtures are read by path (#filePath): the reference figures and the fuzz corpus.
        .testTarget(name: "PulseCoreTests", dependencies: ["PulseCore"], exclude: ["Fixtures"]),
        .testTarget(name: "PulseStoreTests", dependencies: ["PulseStore", "PulseCore"]),
        .testTarget(name: "PulseServiceTests", dependencies: ["PulseService", "PulseStore", "PulseCore"]),
        // The storage contract, through the protocols, on every engine.
        .testTarget(name: "PulseContractTests", dependencies: ["PulseStore", "PulsePostgres", "PulseCore",
                                                               .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "PulseMailTests", dependencies: ["PulseMail", "PulseStore", "PulseCore"]),
        .testTarget(
            name: "PulseWebTests",
            dependencies: [
                "PulseWeb", "PulseStore", "PulseCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "PulseCLITests",
            dependencies: ["PulseCore"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
