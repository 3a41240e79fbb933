import Foundation
import PulseCore
import PulsePostgres
import PulseStore

/// What the commands that run on either engine need of a store.
typealias WorkspaceStore = AnswerStore & RosterStore & OutboxStore & RoundStore & ReportStore & KPIStore & OneOnOneStore & KPIImportStore & ResponsesImportStore & PipelineStore & MaintenanceStore

extension GlobalOptions {
    /// `--db` (or PULSE_DB) when it names a PostgreSQL database.
    var postgresURL: String? {
        let p = dbPath
        return p.hasPrefix("postgresql://") || p.hasPrefix("postgres://") ? p : nil
    }

    /// The store of the workspace: the SQLite file, or a PostgreSQL database (its schema
    /// created or migrated on the way, as `AppDatabase.open` does for SQLite).
    /// - Parameter create: only `init` creates a SQLite file.
    func openStore(config: PulseConfig, create: Bool = false, startsWorkspace: Bool = false) async throws(PulseError) -> any WorkspaceStore {
        guard let url = postgresURL else {
            return SQLiteAnswerStore(try openDatabase(create: create, startsWorkspace: startsWorkspace))
        }
        return PostgresAnswerStore(try await openPostgres(url: url, config: config))
    }

    func openPostgres(url: String, config: PulseConfig) async throws(PulseError) -> PostgresDatabase {
        let location = try PostgresDatabase.Location(url: url)
        var password = environment[PulseConfig.Default.databasePasswordEnv].nonEmpty
        if let variable = config.database?.passwordEnv, variable != PulseConfig.Default.databasePasswordEnv {
            guard let p = environment[variable].nonEmpty else {
                throw .runtime("database.password_env names \(variable), but that environment variable is empty: set it to the PostgreSQL password")
            }
            password = p
        }
        return try await PostgresDatabase(location, password: password)
    }

    /// The secret the personal links are made with: the key file beside a SQLite file, or,
    /// for PostgreSQL (several machines, no file beside the database), an environment
    /// variable every instance that sends is given.
    func tokenKey(config: PulseConfig) throws(PulseError) -> TokenKey {
        guard postgresURL != nil else { return try TokenKey.load(path: dbPath + ".key") }
        let variable = config.database?.tokenKeyEnv ?? Self.tokenKeyVariable
        guard let text = environment[variable].nonEmpty else {
            throw .runtime("on PostgreSQL the links are made with a key from the environment variable \(variable), which is empty: "
                + Self.tokenKeyAdvice(variable))
        }
        var b64 = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let bytes = Data(base64Encoded: b64), bytes.count >= 32 else {
            throw .runtime("the environment variable \(variable) does not hold a token key (base64 of at least 32 bytes): "
                + Self.tokenKeyAdvice(variable))
        }
        return TokenKey(bytes: bytes)
    }

    static let tokenKeyVariable = PulseConfig.Default.tokenKeyEnv

    static func tokenKeyAdvice(_ variable: String) -> String {
        "make one once (head -c 32 /dev/urandom | base64), keep it like a password, and give the same value to every "
            + "instance that sends or reminds (\(variable)=...); links already mailed work only with the key they were made with"
    }
}
