import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PulseCore
import PulseStore
import PulseWeb

extension Pulse {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the answer pages behind the personal links.",
            discussion: """
                Reads and writes the same database as the other commands (WAL): send and tick \
                can run beside it. Put it behind a TLS proxy on the address in base_url. It logs \
                no tokens and no answers.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "The address to listen on.")
        var host = "127.0.0.1"
        @Option(help: "The port to listen on (0: any free port, printed on start).")
        var port = 8080
        @Option(name: .customLong("trust-proxy"),
                help: ArgumentHelp("A reverse proxy's address whose X-Forwarded-For names the client (repeatable).",
                                   valueName: "address"))
        var trustedProxies: [String] = []

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port (0 to 65535)") }
        }

        func run() async throws {
            let config = try global.loadConfig()
            let db = try global.openDatabase()
            let key = try TokenKey.load(path: global.dbPath + ".key")
            var logger = Logger(label: "pulse.serve")
            logger.logLevel = .warning
            var settings = WebSettings(database: db, key: key, organization: config.organization ?? "Your team",
                                       minGroupSize: config.anonymityThreshold, clock: global.clock)
            settings.trustedProxies = Set(trustedProxies)
            let host = self.host
            let app = try WebApp.application(settings, host: host, port: port, logger: logger) { bound in
                Terminal.note("pulse serve: answering on http://\(host):\(bound)/s/<token> (Ctrl-C stops)")
            }
            try await app.runService()
        }
    }
}
