import Foundation
import Testing

/// Backups taken while another pulse process writes, and the documented restore.
@Suite(.serialized, .timeLimit(.minutes(3))) struct SafetyTests {
    @Test func aBackupDuringAnImportIsWholeAndARestoreGivesTheSameDatabase() throws {
        let w = try Workspace()
        defer { w.remove() }
        #expect(try w.pulse("demo", w.path("demo"), "--date", "2026-11-22").status == 0)
        let env = ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"),
                   "PULSE_CONFIG": w.path("demo/pulse.yaml")]
        let before = try #require(try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), "SELECT COUNT(*) FROM activity"])
            .data(using: .utf8).flatMap { try JSONSerialization.jsonObject(with: $0) as? [[Int]] }?.first?.first)

        // A large import in another process while backups are taken.
        var csv = "email,date,calls\n"
        let emails = ["niran@acme.example", "aisha@acme.example", "james@acme.example"]
        for d in 0..<60_000 {
            csv += "\(emails[d % 3]),\(Day2.iso(20_000 + d / 3)),\(d % 40)\n"
        }
        try w.write("big.csv", csv)
        let importer = Process()
        importer.executableURL = try Binary.pulse()
        importer.arguments = ["kpi", "import", w.path("big.csv")]
        importer.environment = w.environment.merging(env) { $1 }
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        var taken = 0
        while importer.isRunning || taken == 0 {
            let b = try w.pulse(["backup", w.path("during-\(taken).sqlite")], env: env)
            #expect(b.status == 0, "\(b.stderr)")
            taken += 1
        }
        importer.waitUntilExit()
        #expect(importer.terminationStatus == 0)
        let after = try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), "SELECT COUNT(*) FROM activity"])
        #expect(after != "[[\(before)]]")
        for i in 0..<taken {
            let out = try python("sqlite_exec.py", [w.path("during-\(i).sqlite"), "PRAGMA integrity_check", ])
            #expect(out == #"[["ok"]]"#)
            let n = try python("sqlite_exec.py", [w.path("during-\(i).sqlite"), "SELECT COUNT(*) FROM activity"])
            #expect(n == "[[\(before)]]" || n == after, "an import is all or nothing in a backup too: \(n)")
        }

        // The documented restore: copy the file and its key back, drop the WAL files.
        let final = try w.pulse(["backup", w.path("final.sqlite")], env: env)
        #expect(final.status == 0 && final.stderr.contains("integrity ok") && final.stderr.contains("final.sqlite.key"), "\(final.stderr)")
        #expect(try w.pulse(["backup", w.path("final.sqlite")], env: env).status == 64, "an existing file needs --force")
        let mode = try FileManager.default.attributesOfItem(atPath: w.path("final.sqlite.key"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.createDirectory(atPath: w.path("restored"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: w.path("final.sqlite"), toPath: w.path("restored/pulse.sqlite"))
        try FileManager.default.copyItem(atPath: w.path("final.sqlite.key"), toPath: w.path("restored/pulse.sqlite.key"))
        let original = try python("sqlite_exec.py", [w.path("demo/pulse.sqlite"), ".dump"])
        let restored = try python("sqlite_exec.py", [w.path("restored/pulse.sqlite"), ".dump"])
        #expect(original == restored, "the restored database holds exactly what the original does")
        #expect(try Data(contentsOf: URL(fileURLWithPath: w.path("restored/pulse.sqlite.key")))
            == Data(contentsOf: URL(fileURLWithPath: w.path("demo/pulse.sqlite.key"))))
        let restoredEnv = env.merging(["PULSE_DB": w.path("restored/pulse.sqlite")]) { $1 }
        let a = try w.pulse(["enps", "--survey", "enps", "--by", "team", "--format", "json"], env: env)
        let b = try w.pulse(["enps", "--survey", "enps", "--by", "team", "--format", "json"], env: restoredEnv)
        #expect(a.status == 0 && a.stdout == b.stdout)
        #expect(try w.pulse(["doctor", "--no-mail"], env: restoredEnv).status == 0)
        #expect(try w.pulse(["backup", w.path("demo/pulse.sqlite")], env: env).status == 64, "not onto the database itself")
    }
}

/// ISO dates from day numbers, for generated files.
enum Day2 {
    static func iso(_ ordinal: Int) -> String {
        let date = Date(timeIntervalSince1970: Double(ordinal) * 86_400)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }
}
