import Foundation
import Testing
@testable import PulseCore

/// Seeded property tests of the parsers that read what people and CRM exports write:
/// the CSV reader and the survey loader. Each runs mutations of a corpus for a bounded
/// time (`PULSE_FUZZ_SECONDS`, 2 by default; `PULSE_FUZZ_SEED` to replay a run) and
/// checks that every input either parses into something consistent or fails with an
/// input error that names the file and a line inside it, never a crash or another
/// error. The corpus in `Fixtures/fuzz/` holds the seeds and every case that once
/// failed; each is also run on its own.
@Suite("Fuzz: CSV reader and survey loader")
struct FuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")
    static var seconds: Double { Double(ProcessInfo.processInfo.environment["PULSE_FUZZ_SECONDS"] ?? "") ?? 2 }
    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["PULSE_FUZZ_SEED"] ?? "") ?? 20261123 }

    static func files(_ ext: String) throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".\(ext)") }.sorted().map {
            ($0, [UInt8](try Data(contentsOf: corpus.appendingPathComponent($0))))
        }
    }

    static let tokens: [[UInt8]] = ["\"", ",", ";", "\r", "\n", "\r\n", "\u{FEFF}", "\"\"", " ", "\t", ":", "- ", "{", "}", "[", "]",
                                    "#", "&a", "*a", "'", "é", "ไทย", "-1", "99999999999999999999", "null", "~"].map { Array($0.utf8) }
        + [[0xFF], [0xC3], [0x00], [0xE0, 0xB8]]

    /// A copy of `input` with one to four random edits.
    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = b.isEmpty ? 0 : Int.random(in: 0...b.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !b.isEmpty && at < b.count: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
            case 2 where !b.isEmpty && at < b.count: b.removeSubrange(at..<min(b.count, at + Int.random(in: 1...8, using: &rng)))
            case 3 where !b.isEmpty && at < b.count:
                let end = min(b.count, at + Int.random(in: 1...40, using: &rng))
                b.insert(contentsOf: Array(b[at..<end]), at: end)
            default: b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: b.count)
            }
        }
        return b
    }

    static func lineCount(_ b: [UInt8]) -> Int { b.reduce(1) { $1 == 0x0A || $1 == 0x0D ? $0 + 1 : $0 } }

    /// Reads `bytes` and checks the properties; a description of what broke, or nil.
    static func checkCSV(_ bytes: [UInt8]) -> String? {
        let lines = lineCount(bytes)
        do {
            let reader = try CSVReader(bytes: bytes, file: "f.csv")
            var last = 1
            try reader.forEachRecord { r in
                if r.line <= last || r.line > lines { last = -1_000_000 }
                last = max(last, r.line)
                for i in 0..<r.count { _ = r.string(i) }
            }
            return last < 0 ? "record lines out of order or past the end" : nil
        } catch let PulseError.invalidInput(issues) {
            let bad = issues.first { $0.file != "f.csv" || ($0.line.map { !(1...lines).contains($0) } ?? false) }
            return bad.map { "an issue outside the file: \($0)" }
        } catch {
            return "an error that is not an input error: \(error)"
        }
    }

    static func checkSurvey(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = lineCount(Array(text.utf8))
        do {
            let definition = try SurveyDefinition.load(yaml: text, file: "s.yaml")
            let again = try SurveyDefinition.fromCanonicalJSON(definition.canonicalJSON())
            return again == definition ? nil : "the canonical JSON does not read back the same"
        } catch let PulseError.invalidInput(issues) {
            if issues.isEmpty { return "an input error with no issue" }
            let bad = issues.first { $0.file != "s.yaml" || ($0.line.map { !(1...lines + 1).contains($0) } ?? false) }
            return bad.map { "an issue outside the file: \($0)" }
        } catch {
            return "an error that is not an input error: \(error)"
        }
    }

    /// Runs mutations until the time is up; records each failing input as a file to
    /// commit into the corpus.
    static func fuzz(_ seeds: [[UInt8]], ext: String, check: ([UInt8]) -> String?) -> Int {
        var rng = SeededGenerator(seed: seed)
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        while Date() < deadline {
            let input = mutate(seeds.randomElement(using: &rng)!, &rng)
            runs += 1
            // Kept until the check returns: if the process dies, the input is there to commit.
            let current = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-fuzz-current.\(ext)")
            if ProcessInfo.processInfo.environment["PULSE_FUZZ_KEEP"] != nil { try? Data(input).write(to: current) }
            if let failure = check(input) {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-fuzz-\(runs).\(ext)")
                try? Data(input).write(to: file)
                Issue.record("\(failure): input saved to \(file.path) (seed \(seed), run \(runs)); add it to Fixtures/fuzz")
                break
            }
        }
        return runs
    }

    @Test func theCorpusStillPasses() throws {
        for (name, bytes) in try Self.files("csv") { #expect(Self.checkCSV(bytes) == nil, "\(name)") }
        for (name, bytes) in try Self.files("yaml") { #expect(Self.checkSurvey(bytes) == nil, "\(name)") }
    }

    @Test func csvReaderMutations() throws {
        let seeds = try Self.files("csv").map(\.bytes) + [Array("email,date,calls\na@x.example,2026-11-02,\"1,234\"\n".utf8)]
        let runs = Self.fuzz(seeds, ext: "csv", check: Self.checkCSV)
        #expect(runs > 100, "the reader ran \(runs) inputs")
    }

    @Test func csvReaderStreamsLikeMemoryOnMutations() throws {
        var rng = SeededGenerator(seed: Self.seed &+ 1)
        let seeds = try Self.files("csv").map(\.bytes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-fuzz-stream-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        func read(_ r: () throws -> CSVReader) -> String {
            do {
                var out: [[String]] = []
                let reader = try r()
                try reader.forEachRecord { rec in out.append(["\(rec.line)"] + (0..<rec.count).map { rec.string($0) ?? "<bad>" }) }
                return "\(reader.header) \(out)"
            } catch { return "error \(error)" }
        }
        for _ in 0..<200 {
            let input = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            try Data(input).write(to: URL(fileURLWithPath: path))
            #expect(read { try CSVReader(path: path, file: "f.csv") } == read { try CSVReader(bytes: input, file: "f.csv") })
        }
    }

    /// Any table written by the RFC 4180 rules reads back cell for cell.
    @Test func writtenTablesReadBack() throws {
        var rng = SeededGenerator(seed: Self.seed &+ 2)
        let pieces = ["a", "", " ", "\"", ",", ";", "\r\n", "\n", "é", "ไทย", "1 234,50 ₽", "=1+1"]
        for _ in 0..<300 {
            let columns = Int.random(in: 1...5, using: &rng)
            let rows = (0..<Int.random(in: 1...6, using: &rng)).map { _ in
                (0..<columns).map { _ in (0..<Int.random(in: 0...3, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
            }
            let header = (0..<columns).map { "c\($0)" }
            let text = ([header] + rows).map { $0.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",") }
                .joined(separator: "\r\n") + "\r\n"
            let reader = try CSVReader(bytes: Array(text.utf8), file: "t.csv", delimiter: UInt8(ascii: ","))
            var back: [[String]] = []
            try reader.forEachRecord { r in back.append((0..<r.count).map { r.string($0) ?? "<bad>" }) }
            // A row of one empty cell reads as a blank line, which the reader skips.
            #expect(back == rows.filter { $0 != [""] }, "\(text)")
        }
    }

    @Test func configLoaderMutations() throws {
        let runs = Self.fuzz([Array(PulseConfig.template.utf8)], ext: "config.yml") { bytes in
            do {
                _ = try PulseConfig.load(yaml: String(decoding: bytes, as: UTF8.self), file: "pulse.yaml")
                return nil
            } catch let PulseError.invalidInput(issues) {
                return issues.allSatisfy { $0.file == "pulse.yaml" } ? nil : "an issue naming another file"
            } catch {
                return "an error that is not an input error: \(error)"
            }
        }
        #expect(runs > 20)
        #expect(throws: PulseError.self) { try PulseConfig.load(yaml: "min_group_size: 1:1:1:1:1:1:1:1:1:1:1:1\n", file: "pulse.yaml") }
    }

    @Test func surveyLoaderMutations() throws {
        let seeds = try Self.files("yaml").map(\.bytes) + DefaultSurveys.files.map { Array($0.1.utf8) }
        let runs = Self.fuzz(seeds, ext: "yaml", check: Self.checkSurvey)
        #expect(runs > 20, "the loader ran \(runs) inputs")
    }
}
