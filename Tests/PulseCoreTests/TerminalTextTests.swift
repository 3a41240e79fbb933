import PulseCore
import Testing

/// Text from people on a terminal, and secrets in URLs: the pure parts.
@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("a\u{1B}[2Jb", #"a\u{1B}[2Jb"#),
        ("bell\u{07}", #"bell\u{7}"#),
        ("Ana\u{08}\u{08}", #"Ana\u{8}\u{8}"#),
        ("csi \u{9B}31m", #"csi \u{9B}31m"#),
        ("del\u{7F} nul\u{0}", #"del\u{7F} nul\u{0}"#),
        ("two\nlines\tand\r", #"two\nlines\tand\r"#),
        ("crlf\r\n", #"crlf\r\n"#),
        ("สมชาย ใจดี 👩‍💻 Ånä", "สมชาย ใจดี 👩‍💻 Ånä"),
    ])
    func oneLineShowsEveryControlCharacterEscaped(input: String, shown: String) {
        #expect(TerminalText.escaped(input) == shown)
    }

    @Test func multiLineTextKeepsItsLineBreaksAndTabs() {
        #expect(TerminalText.escapedLines("one\r\ntwo\n\tthree") == "one\ntwo\n\tthree")
        #expect(TerminalText.escapedLines("over\rwrite\u{1B}]0;title\u{07}") == #"over\rwrite\u{1B}]0;title\u{7}"#)
        #expect(TerminalText.escapedLines("plain") == "plain")
    }

    @Test func aTableMeasuresTheEscapedText() {
        var t = TextTable([("name", .left), ("n", .right)])
        t.add(["a\u{1B}[8mb", "1"])
        t.add(["longer name", "22"])
        let lines = t.render(style: Style(enabled: false)).split(separator: "\n")
        #expect(lines[1] == #"a\u{1B}[8mb   1"#)
        #expect(lines[2] == "longer name  22")
        #expect(!lines.joined().unicodeScalars.contains { $0.properties.generalCategory == .control })
        var styled = TextTable([("x", .left)])
        styled.add(["\u{1B}[31m"], styles: [Style(enabled: true).red])
        #expect(styled.render(style: Style(enabled: true)).contains("\u{1B}[31m\\u{1B}[31m\u{1B}[0m"),
                "the style wraps the escaped text")
    }

    @Test func jsonEscapesC1AndDELButKeepsTheValue() {
        #expect(JSON.string("\u{9B}x\u{7F}\u{1B}").serialized() == #""\u009bx\u007f\u001b""#)
    }

    @Test(arguments: [
        ("cannot reach smtp://bot:hunter2@mail.example:25 (refused)", "cannot reach smtp://***@mail.example:25 (refused)"),
        ("smtps://bot@mail.example", "smtps://***@mail.example"),
        ("to postgresql://pulse@db.example:5432/pulse and smtp://a:b@c", "to postgresql://***@db.example:5432/pulse and smtp://***@c"),
        ("smtp://user@example.com:p@ss@host", "smtp://***@host"),
        ("smtp://127.0.0.1:2525 and ana@acme.example", "smtp://127.0.0.1:2525 and ana@acme.example"),
        ("\"smtp://u:p@h\"", "\"smtp://***@h\""),
    ])
    func urlUserInfoIsRedacted(text: String, shown: String) {
        #expect(URLUserInfo.redacted(text) == shown)
    }

    @Test func aPasswordInAURLIsRecognised() {
        #expect(URLUserInfo.hasPassword("smtp://bot:hunter2@mail.example:25"))
        #expect(URLUserInfo.hasPassword("smtps://bot:p%40ss@mail.example"))
        #expect(!URLUserInfo.hasPassword("smtp://bot@mail.example:25"))
        #expect(!URLUserInfo.hasPassword("smtp://127.0.0.1:2525"))
        #expect(URLUserInfo.hasPassword("smtp://bot:pa/ss@mail.example"), "a password with a slash in it")
    }
}
