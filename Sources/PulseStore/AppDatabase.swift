import Foundation
import GRDB
import PulseCore

/// The Pulse database: one SQLite file in WAL mode, migrated on open.
public struct AppDatabase: Sendable {
    let dbWriter: any DatabaseWriter
    /// The file, when it was opened read-only (for the message a write gets).
    let readonlyPath: String?
    /// The definitions of survey versions read so far, by id: a version is never changed
    /// once stored, nor its id given to another (AUTOINCREMENT), so these never go stale.
    let versionDefinitions = BoundedCache<Int64, SurveyDefinition>(limit: 256)

    /// Wraps a connection and applies the migrations this version knows.
    /// - Throws: `PulseError.runtime` when the file was written by a newer Pulse.
    public init(_ dbWriter: any DatabaseWriter, path readonlyPath: String? = nil) throws(PulseError) {
        self.dbWriter = dbWriter
        self.readonlyPath = readonlyPath
        do {
            let migrator = Self.migrator
            if readonlyPath != nil {
                let complete = try dbWriter.read { db in try migrator.hasCompletedMigrations(db) }
                let superseded = try dbWriter.read { db in try migrator.hasBeenSuperseded(db) }
                if !complete && !superseded {
                    throw PulseError.runtime("the database \(readonlyPath!) needs a schema upgrade, and it is read-only here "
                        + "(\(Self.readonlyReason(readonlyPath!))); run pulse once where it can be written")
                }
                if !superseded { return }
            }
            let superseded = try dbWriter.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let applied = try dbWriter.read { db in try migrator.appliedIdentifiers(db) }
                let known = Set(migrator.migrations)
                let unknown = applied.subtracting(known).sorted()
                throw PulseError.runtime("the database was written by a newer version of Pulse (it has schema "
                    + "\(unknown.joined(separator: ", ")), which this version does not know); upgrade pulse")
            }
            try migrator.migrate(dbWriter)
        } catch let e as PulseError {
            throw e
        } catch {
            throw .runtime("cannot prepare the database: \(error)")
        }
    }

    /// The message for a database file that is not there.
    public static func missingMessage(_ path: String) -> String {
        "no database at \(path): run pulse init, or set --db or PULSE_DB"
    }

    /// Opens the database file at `path`; only `create` (init and demo) makes a new one.
    ///
    /// A file that this process cannot write, or whose folder it cannot write (where SQLite
    /// keeps the `-wal` and `-shm` files), is opened read-only: reading commands work and
    /// a write says plainly that the database is read-only here.
    /// - Throws: `PulseError.runtime` with a one-line explanation for a missing file, a
    ///   file that is not SQLite, a newer schema, or a file that cannot be opened.
    public static func open(path: String, create: Bool = false, readonly: Bool = false) throws(PulseError) -> AppDatabase {
        let fm = FileManager.default
        var readonly = readonly
        var immutable = false
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        // An empty file is a database only for init and demo (it may be one they left
        // when opening failed): for anything else it is not there.
        let size = (try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if fm.fileExists(atPath: path) && size == 0 && !create {
            throw .runtime(missingMessage(path))
        }
        if fm.fileExists(atPath: path) {
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw .runtime("cannot read the database \(path): permission denied")
            }
            let head = (try? h.read(upToCount: 16)) ?? Data()
            try? h.close()
            if !head.isEmpty && head != Data("SQLite format 3\0".utf8) {
                throw .runtime("\(path) is not a Pulse database: it is not an SQLite file (point --db or PULSE_DB at the right file)")
            }
            if !fm.isWritableFile(atPath: path) || !fm.isWritableFile(atPath: folder) {
                readonly = true
                // Without its -wal and -shm and with no way to make them, SQLite can only read
                // the file as it is: nothing else can be writing it either.
                let wal = fm.fileExists(atPath: path + "-wal"), shm = fm.fileExists(atPath: path + "-shm")
                if !fm.isWritableFile(atPath: folder) && !(wal && shm) {
                    immutable = true
                }
            }
        } else {
            guard create else { throw .runtime(missingMessage(path)) }
            if !fm.fileExists(atPath: folder) {
                throw .runtime("cannot create the database \(path): the folder \(folder) does not exist")
            }
            if !fm.isWritableFile(atPath: folder) {
                throw .runtime("cannot create the database \(path): the folder \(folder) is read-only")
            }
            // It holds answers and personal links: the owner's only from its first byte, and
            // SQLite gives its -wal and -shm the same mode.
            try PrivateFile.createEmpty(atPath: path)
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        config.readonly = readonly
        config.label = "pulse"
        // WAL with synchronous=NORMAL: a commit is in the log before it returns, so a
        // killed or crashed process loses nothing; only a power cut can drop the last
        // commits. Without the fsync on every commit, the outbox can mark each message
        // sent in its own transaction, right after the server accepts it.
        config.prepareDatabase { db in
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        }
        do {
            let writer: any DatabaseWriter
            if immutable {
                let url = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?immutable=1"
                writer = try DatabaseQueue(path: url, configuration: config)
            } else {
                writer = try DatabasePool(path: path, configuration: config)
            }
            return try AppDatabase(writer, path: readonly ? path : nil)
        } catch let e as PulseError {
            throw e
        } catch let e as DatabaseError where e.resultCode == .SQLITE_NOTADB {
            throw .runtime("\(path) is not a Pulse database: it is not an SQLite file")
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CANTOPEN || e.resultCode == .SQLITE_READONLY {
            throw .runtime("cannot open the database \(path): \(Self.readonlyReason(path))")
        } catch {
            throw .runtime("cannot open the database \(path): \(error)")
        }
    }

    /// Why a database cannot be written here, in words.
    static func readonlyReason(_ path: String) -> String {
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        if fm.fileExists(atPath: path) && !fm.isWritableFile(atPath: path) { return "the file is read-only for this user" }
        if !fm.isWritableFile(atPath: folder) { return "its folder \(folder) is read-only for this user (SQLite writes its -wal and -shm files there)" }
        return "it cannot be written"
    }

    /// An empty in-memory database, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: { var c = Configuration(); c.foreignKeysEnabled = true; return c }()))
    }

    /// The schema version: the last migration applied.
    public func schemaVersion() throws -> String? {
        try dbWriter.read { db in try Self.migrator.appliedIdentifiers(db).sorted().last }
    }

    /// Runs a write transaction, mapping SQLite failures to a runtime error.
    func write<T>(_ body: (Database) throws -> T) throws(PulseError) -> T {
        do {
            return try dbWriter.write(body)
        } catch {
            throw mapped(error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(PulseError) -> T {
        do {
            return try dbWriter.read(body)
        } catch {
            throw mapped(error)
        }
    }

    /// One plain sentence for what SQLite reported.
    func mapped(_ error: any Error) -> PulseError {
        if let e = error as? PulseError { return e }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return .runtime("the database is locked by another pulse process; try again in a moment")
            case .SQLITE_READONLY, .SQLITE_CANTOPEN:
                let path = readonlyPath ?? "file"
                return .runtime("the database \(path) is read-only here (\(Self.readonlyReason(path))); this command changes it")
            default:
                break
            }
        }
        return .runtime("database error: \(error)")
    }
}

// MARK: - Schema

extension AppDatabase {
    /// Migrations are named, applied in order and never edited once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.execute(sql: """
                CREATE TABLE rep (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    name TEXT,
                    team TEXT,
                    manager_email TEXT COLLATE NOCASE,
                    region TEXT,
                    locale TEXT,
                    timezone TEXT,
                    start_date TEXT,
                    active BOOLEAN NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    deactivated_at TEXT
                );
                CREATE INDEX rep_team ON rep(team);
                CREATE INDEX rep_manager ON rep(manager_email);

                CREATE TABLE survey (
                    id TEXT PRIMARY KEY,
                    title TEXT NOT NULL,
                    anonymity TEXT NOT NULL CHECK (anonymity IN ('identified', 'anonymous')),
                    current_version_id INTEGER
                );
                -- The definition each round used, as canonical JSON: a survey file that
                -- changes later gets a new version and never rewrites history.
                CREATE TABLE survey_version (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    survey_id TEXT NOT NULL REFERENCES survey(id),
                    number INTEGER NOT NULL,
                    definition TEXT NOT NULL,
                    registered_at TEXT NOT NULL,
                    UNIQUE (survey_id, number),
                    UNIQUE (survey_id, definition)
                );

                CREATE TABLE round (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    survey_id TEXT NOT NULL REFERENCES survey(id),
                    survey_version_id INTEGER NOT NULL REFERENCES survey_version(id),
                    period TEXT NOT NULL,
                    period_start TEXT NOT NULL,
                    period_end TEXT NOT NULL,
                    -- 'sent': invitations went out through Pulse; 'imported': answers came from a file.
                    source TEXT NOT NULL CHECK (source IN ('sent', 'imported')),
                    opened_at TEXT NOT NULL,
                    closes_at TEXT,
                    closed_at TEXT,
                    UNIQUE (survey_id, period)
                );

                CREATE TABLE invitation (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    round_id INTEGER NOT NULL REFERENCES round(id),
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    token_hash BLOB UNIQUE,
                    team TEXT,
                    manager_email TEXT,
                    region TEXT,
                    created_at TEXT NOT NULL,
                    sent_at TEXT,
                    -- Only that the rep answered, never when: an anonymous answer must not
                    -- be matched to its invitation by time.
                    answered BOOLEAN NOT NULL DEFAULT 0,
                    reminders INTEGER NOT NULL DEFAULT 0,
                    last_reminded_at TEXT,
                    UNIQUE (round_id, rep_id)
                );

                -- rep_id and submitted_at are NULL for anonymous surveys. team, manager_email
                -- and region are the rep's groups when they answered, so that reports group
                -- anonymous answers without a link to the rep.
                CREATE TABLE response (
                    id INTEGER PRIMARY KEY,
                    round_id INTEGER NOT NULL REFERENCES round(id),
                    rep_id INTEGER REFERENCES rep(id),
                    team TEXT,
                    manager_email TEXT,
                    region TEXT,
                    submitted_at TEXT,
                    morale REAL,
                    enps INTEGER,
                    source TEXT NOT NULL CHECK (source IN ('import', 'web')),
                    edit_key BLOB UNIQUE,
                    UNIQUE (round_id, rep_id)
                );
                CREATE INDEX response_round ON response(round_id);

                CREATE TABLE answer (
                    response_id INTEGER NOT NULL REFERENCES response(id) ON DELETE CASCADE,
                    question_id TEXT NOT NULL,
                    number INTEGER,
                    text TEXT,
                    PRIMARY KEY (response_id, question_id)
                ) WITHOUT ROWID;

                -- Money in integer cents; NULL is a missing value, not zero.
                CREATE TABLE activity (
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    day TEXT NOT NULL,
                    calls INTEGER,
                    emails INTEGER,
                    meetings INTEGER,
                    opportunities_created INTEGER,
                    deals_won INTEGER,
                    deals_lost INTEGER,
                    revenue_won_cents INTEGER,
                    pipeline_value_cents INTEGER,
                    PRIMARY KEY (rep_id, day)
                ) WITHOUT ROWID;

                CREATE TABLE quota (
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    period TEXT NOT NULL,
                    period_start TEXT NOT NULL,
                    period_end TEXT NOT NULL,
                    quota_cents INTEGER NOT NULL,
                    PRIMARY KEY (rep_id, period)
                ) WITHOUT ROWID;

                CREATE TABLE note (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    text TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE action_item (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    rep_id INTEGER NOT NULL REFERENCES rep(id),
                    note_id INTEGER REFERENCES note(id),
                    text TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    done_at TEXT
                );
                """)
        }
        registerMailMigrations(&migrator)
        registerOneOnOneMigrations(&migrator)
        registerInvitationCloseMigration(&migrator)
        registerPreferredNameMigration(&migrator)
        registerAnswerHoldMigration(&migrator)
        registerPipelineMigration(&migrator)
        registerRollupMigration(&migrator)
        registerResponseRollupMigration(&migrator)
        return migrator
    }
}

