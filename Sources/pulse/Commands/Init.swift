import ArgumentParser
import Foundation
import PulseCore
import PulsePostgres
import PulseStore

extension Pulse {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Write a commented pulse.yaml, the shipped surveys, and create the database.")

        @OptionGroup var global: GlobalOptions

        @Flag(help: "Do not write the shipped survey definitions into the surveys folder.")
        var noSurveys = false

        @Option(name: .customLong("with"), help: ArgumentHelp(
            "Also write this shipped survey (repeatable): \(DefaultSurveys.optional.map { ($0.name as NSString).deletingPathExtension }.joined(separator: ", ")). "
                + "The engagement survey asks the eNPS question too: use it instead of enps.yaml.", valueName: "survey"))
        var with: [String] = []

        func validate() throws {
            let known = DefaultSurveys.optional.map { ($0.name as NSString).deletingPathExtension }
            for name in with where !known.contains(name) {
                throw ValidationError("--with \(name): the shipped surveys to add are \(known.joined(separator: ", "))")
            }
        }

        func run() async throws {
            let fm = FileManager.default
            let configPath = global.configPath
            if fm.fileExists(atPath: configPath) {
                Terminal.note("kept \(configPath) (it exists)")
            } else {
                guard fm.createFile(atPath: configPath, contents: Data(PulseConfig.template.utf8)) else {
                    throw PulseError.runtime("cannot write \(configPath)")
                }
                Terminal.note("wrote \(configPath)")
            }
            if !noSurveys {
                let dir = global.surveysPath
                try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let extra = DefaultSurveys.optional.filter { with.contains(($0.name as NSString).deletingPathExtension) }
                for (name, yaml) in DefaultSurveys.files + extra {
                    let path = (dir as NSString).appendingPathComponent(name)
                    if fm.fileExists(atPath: path) {
                        Terminal.note("kept \(path) (it exists)")
                    } else if fm.createFile(atPath: path, contents: Data(yaml.utf8)) {
                        Terminal.note("wrote \(path)")
                    } else {
                        throw PulseError.runtime("cannot write \(path)")
                    }
                }
            }
            if let url = global.postgresURL {
                let config = try global.loadConfig()
                let db = try await global.openPostgres(url: url, config: config)
                Terminal.note("database \(try PostgresDatabase.Location(url: url).description) is ready (schema \(try await db.schemaVersion() ?? "?"))")
                let variable = config.database?.tokenKeyEnv ?? GlobalOptions.tokenKeyVariable
                if global.environment[variable].nonEmpty == nil {
                    Terminal.note("the links are made with a key from the environment variable \(variable): "
                        + GlobalOptions.tokenKeyAdvice(variable))
                }
            } else {
                let db = try global.openDatabase(create: true)
                Terminal.note("database \(global.dbPath) is ready (schema \(try db.schemaVersion() ?? "?"))")
            }
            Terminal.note("next: pulse roster import roster.csv")
        }
    }
}
