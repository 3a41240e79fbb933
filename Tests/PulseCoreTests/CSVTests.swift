import Foundation
import Testing
@testable import PulseCore

@Suite("CSV reader and writer")
struct CSVTests {
    func rows(_ text: String, delimiter: UInt8? = nil) throws -> (header: [String], rows: [(line: Int, cells: [String])]) {
        let reader = try CSVReader(bytes: Array(text.utf8), file: "t.csv", delimiter: delimiter)
        var out: [(Int, [String])] = []
        try reader.forEachRecord { r in out.append((r.line, (0..<r.count).map { r.string($0) ?? "<bad>" })) }
        return (reader.header, out)
    }

    @Test func bomCrlfAndQuotes() throws {
        let t = "\u{FEFF}email, name \r\na@x.example,\"Doe, Jane \"\"JD\"\"\"\r\nb@x.example,\"two\r\nlines\"\r\n\r\nc@x.example,Ирина\r\n"
        let (header, rows) = try rows(t)
        #expect(header == ["email", "name"])
        #expect(rows.map(\.line) == [2, 3, 6])
        #expect(rows[0].cells == ["a@x.example", "Doe, Jane \"JD\""])
        #expect(rows[1].cells == ["b@x.example", "two\r\nlines"])
        #expect(rows[2].cells == ["c@x.example", "Ирина"])
    }

    @Test func semicolonIsDetectedFromTheHeader() throws {
        let (header, rows) = try rows("email;revenue\na@x.example;\"1,5\"\n")
        #expect(header == ["email", "revenue"])
        #expect(rows[0].cells == ["a@x.example", "1,5"])
        let (h2, _) = try self.rows("a,b;c\n1,2\n")
        #expect(h2 == ["a", "b;c"])
    }

    @Test func noFinalNewlineAndEmptyCells() throws {
        let (_, rows) = try rows("a,b,c\n1,,3\n,,")
        #expect(rows.map(\.cells) == [["1", "", "3"], ["", "", ""]])
    }

    @Test func errorsNameFileAndLine() throws {
        #expect(throws: PulseError.input(InputIssue(file: "t.csv", "the file is empty: a header row is required"))) {
            _ = try CSVReader(bytes: [], file: "t.csv")
        }
        do {
            _ = try rows("a,b\n1,2\n3,\"open\n")
            Issue.record("an unterminated quote was accepted")
        } catch let PulseError.invalidInput(issues) {
            #expect(issues.first?.file == "t.csv")
            #expect(issues.first?.line == 3)
        }
    }

    /// A file read in 1 MiB chunks gives the records the in-memory reader gives, with
    /// quoted fields, CRLF and multi-line cells falling across chunk boundaries.
    @Test func streamedFilesReadLikeBytesInMemory() throws {
        var rng = SeededGenerator(seed: 7)
        let pieces = ["plain", "\"quoted, with comma\"", "\"two\r\nlines\"", "\"a \"\"quote\"\"\"", "", "Ирина", "ไทย", "1 234,50 ₽"]
        var text = "\u{FEFF}email;\"note\";n\r\n"
        var line = 0
        while text.utf8.count < 3 << 20 {
            line += 1
            let note = pieces[Int(rng.next() % UInt64(pieces.count))]
            text += "r\(line)@x.example;\(note);\(rng.next() % 1000)\(line % 3 == 0 ? "\r\n" : "\n")"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-csv-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        func records(_ reader: CSVReader) throws -> [[String]] {
            var out: [[String]] = []
            try reader.forEachRecord { r in out.append(["\(r.line)"] + (0..<r.count).map { r.string($0) ?? "<bad>" }) }
            return out
        }
        let streamed = try CSVReader(path: path, file: "t.csv"), inMemory = try CSVReader(bytes: Array(text.utf8), file: "t.csv")
        #expect(streamed.header == ["email", "note", "n"] && streamed.delimiter == UInt8(ascii: ";"))
        let a = try records(streamed), b = try records(inMemory)
        #expect(a.count == line && a == b)
        // An unclosed quote at the very end is still an error with its line.
        try Data((text + "r0@x.example;\"open").utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: PulseError.self) { _ = try records(CSVReader(path: path, file: "t.csv")) }
    }

    @Test func writerQuotesAndNeutralisesFormulas() {
        var w = CSVWriter()
        w.header(["group", "note", "n"])
        w.row([.text("=HYPERLINK(\"x\")"), .text("a,b"), .int(3)])
        w.row([.text("+1"), .text("-2"), .number(-2.5)])
        w.row([.text("@SUM(A1)"), .text(nil), .number(nil)])
        #expect(w.text == "group,note,n\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",3\r\n'+1,'-2,-2.5\r\n'@SUM(A1),,\r\n")
    }

    @Test func jsonEscapesAndKeepsKeyOrder() {
        let j = JSON.object([("b", .string("line\n\"q\" \u{1}")), ("a", .array([.int(1), .double(2.5), .null, .bool(true)]))])
        #expect(j.serialized() == #"{"b": "line\n\"q\" \u0001", "a": [1, 2.5, null, true]}"#)
    }

    @Test func displayWidthCountsThaiMarksAndWideScripts() {
        #expect(displayWidth("ทดสอบ") == 5)
        #expect(displayWidth("ที่") == 1)
        #expect(displayWidth("日本") == 4)
        #expect(displayWidth("Ирина") == 5)
        #expect(sparkline([0, 50, 100, nil]) == "▁▅█ ")
    }
}

/// SplitMix64: a seeded generator, so that a failing case can be run again.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
