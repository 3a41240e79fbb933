import PulseCore
import PulsePostgres
import Testing

/// `postgresql://USER@HOST:PORT/NAME`: what it names, and what it may not hold.
@Suite struct LocationTests {
    @Test func aURLNamesUserHostPortAndDatabase() throws {
        let l = try PostgresDatabase.Location(url: "postgresql://pulse@db.internal:6432/sales")
        #expect(l.user == "pulse" && l.host == "db.internal" && l.port == 6432 && l.database == "sales")
        #expect(try PostgresDatabase.Location(url: "postgres://h/x").description == "postgresql://postgres@h:5432/x")
    }

    @Test(arguments: [
        ("postgresql://pulse:s3cret@db/sales", "holds a password"),
        ("postgresql://pulse@db", "no database name"),
        ("postgresql:///sales", "no host"),
        ("mysql://pulse@db/sales", "is not a postgresql://"),
    ]) func aBadURLIsAUsageErrorThatSaysWhy(url: String, why: String) {
        #expect {
            try PostgresDatabase.Location(url: url)
        } throws: { error in
            guard let e = error as? PulseError, case .usage = e else { return false }
            return e.description.contains(why) && !e.description.contains("s3cret")
        }
    }

    /// Nothing answers on the port: a plain sentence, no half-written schema.
    @Test func anUnreachableServerSaysWhatToFix() async throws {
        let l = try PostgresDatabase.Location(url: "postgresql://pulse@127.0.0.1:1/sales")
        do {
            _ = try await PostgresDatabase(l, password: nil)
            Issue.record("connected to nothing")
        } catch {
            #expect(error.description.contains("cannot reach PostgreSQL at 127.0.0.1:1"), "\(error)")
        }
    }
}
