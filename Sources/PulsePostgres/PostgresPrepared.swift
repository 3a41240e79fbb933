import PostgresNIO

/// The text of a statement that is run often enough to be prepared: each connection
/// prepares it once (by the type's name) and then only binds and runs it. A statement
/// sent as text is parsed and planned every time, which for the answer pages' statements
/// costs the server more than running them.
protocol PreparedText {
    static var sql: String { get }
}

/// A prepared statement of `Text` with its values; its rows as they come.
struct Prepared<Text: PreparedText>: PostgresPreparedStatement {
    static var sql: String { Text.sql }
    static var name: String { "pulse." + String(describing: Text.self) }
    typealias Row = PostgresRow

    var bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared statement (preparing it on this connection the first time) and
    /// collects its rows.
    @discardableResult
    func run<Text: PreparedText>(_ text: Text.Type, _ bindings: PostgresBindings, logger: Logger) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await execute(Prepared<Text>(bindings: bindings), logger: logger) { rows.append(row) }
        return rows
    }
}
