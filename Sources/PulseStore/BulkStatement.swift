import GRDB
import GRDBSQLite
import PulseCore

/// One prepared statement driven through SQLite's C API, for loops that write millions
/// of rows: binding through GRDB's `StatementArguments` boxes every value, which costs
/// more than the insert itself. Use inside a GRDB write transaction only.
struct BulkStatement {
    private let statement: Statement
    private let connection: OpaquePointer?

    init(_ statement: Statement, connection: OpaquePointer?) {
        self.statement = statement
        self.connection = connection
    }

    /// Binds an id, a text and integers-or-nulls to the parameters in order, runs the
    /// statement, and returns how many rows it changed.
    mutating func execute(_ id: Int64, _ text: String, _ values: [Int?]) throws -> Int {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, id)
        _ = text.utf8.withContiguousStorageIfAvailable { b in
            sqlite3_bind_text(s, 2, b.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                              Int32(b.count), SQLITE_TRANSIENT)
        } ?? {
            sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT)
        }()
        for (i, v) in values.enumerated() {
            if let v { sqlite3_bind_int64(s, Int32(i + 3), Int64(v)) } else { sqlite3_bind_null(s, Int32(i + 3)) }
        }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(s)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        return Int(sqlite3_changes(connection))
    }
}

/// Rows of a prepared statement read through SQLite's C API: for scans of millions of
/// rows, where decoding each through GRDB's `Row` costs more than SQLite's own work.
/// Use inside a GRDB read or write only.
struct RawRows {
    private let statement: Statement

    init(_ statement: Statement, arguments: StatementArguments) throws {
        try statement.setArguments(arguments)
        self.statement = statement
    }

    /// One row, valid only during the call that gets it.
    struct Current {
        fileprivate let s: OpaquePointer

        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(s, i) == SQLITE_NULL }
        func int64(_ i: Int32) -> Int64? { isNull(i) ? nil : sqlite3_column_int64(s, i) }
        func int(_ i: Int32) -> Int? { isNull(i) ? nil : Int(sqlite3_column_int64(s, i)) }
        func double(_ i: Int32) -> Double? { isNull(i) ? nil : sqlite3_column_double(s, i) }

        /// A `YYYY-MM-DD` text column as a day, parsed from its bytes.
        func day(_ i: Int32) -> Day? {
            guard let text = sqlite3_column_text(s, i) else { return nil }
            return Day(isoBytes: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(s, i))))
        }

        /// Runs `body` on a text column's bytes (`nil` for NULL), without making a String.
        func withText<R>(_ i: Int32, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
            guard let text = sqlite3_column_text(s, i) else { return body(nil) }
            return body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(s, i))))
        }

        func string(_ i: Int32) -> String? {
            guard let text = sqlite3_column_text(s, i) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(s, i))), as: UTF8.self)
        }
    }

    func forEach(_ body: (Current) throws -> Void) throws {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        defer { sqlite3_reset(s) }
        while true {
            let code = sqlite3_step(s)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(s))),
                                    sql: statement.sql)
            }
            try body(Current(s: s))
        }
    }
}

/// SQLite copies the bound text before `bind` returns.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

