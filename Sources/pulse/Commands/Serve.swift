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
            commandName: "serve",
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

        /// Why the links in the mail may not reach this server: `base_url` names another
        /// address, and it is not https (which a TLS proxy in front would explain).
        static func baseURLWarning(baseURL: String, host: String, port: Int) -> String? {
            guard let url = URL(string: baseURL), let scheme = url.scheme, let linkHost = url.host else { return nil }
            if scheme == "https" { return nil }
            let linkPort = url.port ?? 80
            let local: Set<String> = ["127.0.0.1", "localhost", "::1"]
            let sameHost = linkHost == host || host == "0.0.0.0" || host == "::" || (local.contains(linkHost) && local.contains(host))
            if sameHost && linkPort == port { return nil }
            return "base_url is \(baseURL), but this server answers on http://\(host):\(port): the links in the mail "
                + "will not reach it unless a proxy forwards that address here (set base_url in pulse.yaml to where reps reach serve)"
        }

        func run() async throws {
            let config = try global.loadConfig()
            // The pages look links up by their hash: they need no key.
            let store = try await global.openStore(config: config)
            var logger = Logger(label: "pulse.serve")
            logger.logLevel = .warning
            var settings = WebSettings(store: store, key: nil, organization: config.organization ?? PulseConfig.Default.organization,
                                       minGroupSize: config.anonymityThreshold, clock: global.clock)
            settings.trustedProxies = Set(trustedProxies)
            // Several servers on one PostgreSQL database count failed look-ups together.
            settings.sharedFailures = store as? any LookUpLimitStore
            settings.anonymousAnswers = AnonymousAnswers(
                store: settings.store, threshold: config.anonymityThreshold, clock: global.clock,
                note: { Terminal.note("pulse serve: " + $0) })
            let host = self.host
            let baseURL = config.baseURL ?? PulseConfig.Default.baseURL
            let app = try WebApp.application(settings, host: host, port: port, logger: logger) { bound in
                Terminal.note("pulse serve: answering on http://\(host):\(bound)/s/<token> (Ctrl-C stops)")
                if let warning = Self.baseURLWarning(baseURL: baseURL, host: host, port: bound) { Terminal.warn(warning) }
            }
            // Anonymous answers wait in memory for a batch; every second, the lease is kept
            // alive and the rounds that ended get what is held for them.
            let held = settings.anonymousAnswers
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    // In a task of its own, which the stop does not cancel: a batch being
                    // written is written whole (a network engine's query would be cut off).
                    let tick = Task { try await held.tick() }
                    do { try await tick.value } catch { Terminal.warn("pulse serve: \(error)") }
                }
            }
            try await app.runService()
            // A tick in flight (a round's batch being written) finishes before the stop
            // writes the rest and ends the lease.
            ticker.cancel()
            await ticker.value
            let stopped = try await held.stop()
            if stopped.written > 0 {
                Terminal.note("pulse serve: wrote the \(stopped.written) anonymous \(stopped.written == 1 ? "answer" : "answers") it held")
            }
            if stopped.released > 0 {
                Terminal.warn("pulse serve: \(stopped.released) anonymous \(stopped.released == 1 ? "answer was" : "answers were") "
                    + "held in rounds with fewer than min_group_size (\(config.anonymityThreshold)) answers so far: not written, "
                    + "so that no one's answer can be singled out; those reps count as not having answered, and their links "
                    + "open the form again")
            }
        }
    }
}
