import Foundation
import Testing

/// `--format` does what `--help` says: real CSV from correlate, drivers and kpi show
/// (one table each, read back by Python's csv module), tables that line up with
/// `--by all`, and a negative `--lag` as typed.
@Suite(.serialized) struct FormatTests {
    static func demo() throws -> (Workspace, [String: String]) {
        let w = try Workspace()
        #expect(try w.pulse("demo", "demo", "--date", "2026-11-22").status == 0)
        return (w, ["PULSE_DB": w.path("demo/pulse.sqlite"), "PULSE_SURVEYS": w.path("demo/Surveys"), "PULSE_CONFIG": w.path("demo/pulse.yaml")])
    }

    /// The rows of a CSV output as Python's csv module reads them; every row as wide as the header.
    func rows(_ w: Workspace, _ r: Run) throws -> [[String]] {
        #expect(r.status == 0, "\(r.stderr)")
        let file = w.path("out-\(UUID().uuidString).csv")
        try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(try python("csv_rows.py", [file]).utf8)) as? [[String]])
        #expect(!rows.isEmpty && rows.allSatisfy { $0.count == rows[0].count }, "\(rows)")
        return rows
    }

    @Test func correlateDriversAndKPIsWriteRealCSV() throws {
        let (w, env) = try Self.demo()
        defer { w.remove() }
        let corr = try rows(w, try w.pulse(["correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--format", "csv"], env: env))
        #expect(corr[0].prefix(7) == ["survey", "kpi", "lag", "from", "to", "method", "r"])
        #expect(corr.dropFirst().map { $0[5] } == ["pearson", "spearman", "within_rep"])
        let json = try #require(try w.pulse(["correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--format", "json"], env: env).json() as? [String: Any])
        let within = try #require((json["within_rep"] as? [String: Any])?["r"] as? Double)
        #expect(abs(Double(corr[3][6])! - within) < 1e-12)

        let byTeam = try rows(w, try w.pulse(["correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--by", "team", "--format", "csv"], env: env))
        #expect(byTeam[0][0] == "team" && Set(byTeam.dropFirst().map { $0[0] }) == ["enterprise", "mid-market", "smb"])

        let drivers = try rows(w, try w.pulse(["drivers", "--format", "csv"], env: env))
        #expect(drivers[0] == ["question", "text", "r", "ci95_low", "ci95_high", "p", "n"] && drivers.count == 8)
        let dj = try #require(try w.pulse(["drivers", "--format", "json"], env: env).json() as? [String: Any])
        let first = try #require((dj["drivers"] as? [[String: Any]])?.first)
        #expect(drivers[1][0] == first["question"] as? String && abs(Double(drivers[1][2])! - (first["r"] as! Double)) < 1e-12)

        let kpis = try rows(w, try w.pulse(["kpi", "show", "--from", "2026-W45", "--to", "2026-W46", "--format", "csv"], env: env))
        #expect(Array(kpis[0].suffix(4)) == ["quota_period", "reps_with_quota", "at_or_above_quota", "share_at_or_above_quota"])
        let quota = kpis.dropFirst().filter { $0[1].isEmpty }
        let kj = try #require(try w.pulse(["kpi", "show", "--from", "2026-W45", "--to", "2026-W46", "--format", "json"], env: env).json() as? [String: Any])
        let periods = try #require(kj["quota_periods"] as? [[String: Any]])
        #expect(!periods.isEmpty && quota.count == periods.count)
        for (row, p) in zip(quota, periods) {
            let q = kpis[0].firstIndex(of: "quota_period")!
            #expect(row[0] == p["team"] as? String && row[q] == p["period"] as? String && Int(row[q + 2]) == p["at_or_above_quota"] as? Int, "\(row) \(p)")
        }
        #expect(kpis.dropFirst().filter { !$0[1].isEmpty }.count == (kj["rows"] as? [Any])?.count)
    }

    @Test func byAllTablesLineUpAndANegativeLagIsTaken() throws {
        let (w, env) = try Self.demo()
        defer { w.remove() }
        for args in [["enps", "--survey", "enps", "--period", "2026-Q4", "--by", "all"],
                     ["trends", "--survey", "weekly-pulse", "--from", "2026-W44", "--to", "2026-W46", "--by", "all"]] {
            let out = try w.pulse(args, env: env)
            let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let row = try #require(lines.firstIndex { $0.hasPrefix("all ") })
            // The header above the row: its last column ends where the row's does.
            #expect(lines[row - 1].count == lines[row].count && lines[row - 1].hasPrefix("   "), "\(args):\n\(out.stdout)")
        }
        for lag in ["-1", "-2"] {
            let r = try w.pulse(["correlate", "--survey", "weekly-pulse", "--kpi", "calls", "--lag", lag, "--format", "json"], env: env)
            #expect(r.status == 0, "\(r.stderr)")
            #expect((try r.json() as? [String: Any])?["lag"] as? Int == Int(lag))
        }
    }
}
