import Foundation
import Testing

/// The README's "Running it for real", run for real: its Caddy and nginx examples in
/// front of `pulse serve` on loopback (ports in place of 443 and the site name), a
/// personal link opened through each, and the access log read for the token; its
/// systemd units through `systemd-analyze verify`.
@Suite(.serialized, .timeLimit(.minutes(5))) struct DeploymentTests {
    /// The fenced blocks of the README with this info string.
    static func readmeBlocks(_ info: String) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(info)" { current = []; continue }
            if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n") + "\n"); current = nil; continue }
            current?.append(line)
        }
        return blocks
    }

    static func freePort() throws -> Int {
        Int(try python("free_port.py", []))!
    }

    /// A workspace with a sent anonymous round, `pulse serve` on a free port, and one rep's token.
    func served() throws -> (Workspace, Server, String) {
        let w = try Workspace()
        #expect(try w.pulse("init").status == 0)
        try w.write("pulse.yaml", "mail:\n  transport: file\n  outbox_dir: \(w.path("outbox"))\n")
        try w.write("roster.csv", "email,name\nann@example.org,Ann\n")
        #expect(try w.pulse("roster", "import", "roster.csv").status == 0)
        #expect(try w.pulse("send", "enps", "--period", TestClock.quarter).status == 0)
        let text = try #require(try readMail(w.path("outbox")).first?["text"] as? String)
        let token = String(try #require(text.firstMatch(of: #/\/s\/([A-Za-z0-9_-]{43})/#)).1)
        return (w, try Server(w), token)
    }

    /// Starts a proxy, waits until `url` answers through it, GETs each path, and stops it.
    func throughProxy(_ configure: (Process) throws -> Void, base: String, paths: [String], insecure: Bool = false) throws -> [String] {
        let proxy = Process()
        try configure(proxy)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        proxy.standardOutput = try FileHandle(forWritingTo: log)
        proxy.standardError = proxy.standardOutput
        try proxy.run()
        defer {
            proxy.terminate()
            proxy.waitUntilExit()
            try? FileManager.default.removeItem(at: log)
        }
        func get(_ path: String) throws -> String {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"] + (insecure ? ["-k"] : []) + [base + path]
            let out = Pipe()
            curl.standardOutput = out
            try curl.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            curl.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let deadline = Date().addingTimeInterval(20)
        while try get("/healthz") != "200" {
            guard Date() < deadline, proxy.isRunning else {
                throw PythonFailed(script: "proxy", status: proxy.terminationStatus, stderr: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try paths.map(get)
    }

    @Test func caddyAsWrittenKeepsNoTokenInItsLog() throws {
        let (w, server, token) = try served()
        defer { server.stop(); w.remove() }
        let port = try Self.freePort()
        let block = try #require(try Self.readmeBlocks("caddyfile").first)
        let config = "{\n\tadmin off\n}\n" + block
            .replacingOccurrences(of: "pulse.example.com {", with: "http://127.0.0.1:\(port) {")
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(server.port)")
            .replacingOccurrences(of: "/var/log/caddy/pulse-access.log", with: w.path("caddy-access.log"))
        #expect(config.contains(w.path("caddy-access.log")) && config.contains("127.0.0.1:\(server.port)"), "the README's example changed shape")
        try w.write("Caddyfile", config)
        let codes = try throughProxy({ p in
            p.executableURL = URL(fileURLWithPath: "/usr/bin/caddy")
            p.arguments = ["run", "--config", w.path("Caddyfile"), "--adapter", "caddyfile"]
            p.environment = ["HOME": w.dir.path, "XDG_DATA_HOME": w.path("caddy-data"), "XDG_CONFIG_HOME": w.path("caddy-config")]
        }, base: "http://127.0.0.1:\(port)", paths: ["/s/\(token)", "/s/\(token)/enps/9"])
        #expect(codes == ["200", "200"], "the page through Caddy: \(codes)")
        let log = try String(contentsOfFile: w.path("caddy-access.log"), encoding: .utf8)
        #expect(log.contains("/s/redacted") && log.contains("/s/redacted/enps/9"), "\(log.prefix(600))")
        #expect(!log.contains(token) && !log.contains(String(token.prefix(16))), "the token is in Caddy's log")
    }

    @Test func nginxAsWrittenKeepsNoTokenInItsLog() throws {
        let (w, server, token) = try served()
        defer { server.stop(); w.remove() }
        let port = try Self.freePort()
        let cert = w.path("cert.pem"), key = w.path("key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "3650",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        let block = try #require(try Self.readmeBlocks("nginx").first)
        let site = block
            .replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(port) ssl;")
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(server.port)")
            .replacingOccurrences(of: "/etc/letsencrypt/live/pulse.example.com/fullchain.pem", with: cert)
            .replacingOccurrences(of: "/etc/letsencrypt/live/pulse.example.com/privkey.pem", with: key)
            .replacingOccurrences(of: "/var/log/nginx/pulse-access.log", with: w.path("nginx-access.log"))
        #expect(site.contains(cert) && site.contains(w.path("nginx-access.log")), "the README's example changed shape")
        let prefix = w.path("nginx")
        try FileManager.default.createDirectory(atPath: prefix, withIntermediateDirectories: true)
        try w.write("nginx.conf", """
            daemon off;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log;
            events {}
            http {
                client_body_temp_path \(prefix)/body;
                proxy_temp_path \(prefix)/proxy;
                fastcgi_temp_path \(prefix)/fastcgi;
                uwsgi_temp_path \(prefix)/uwsgi;
                scgi_temp_path \(prefix)/scgi;
                access_log off;
            \(site)
            }

            """)
        let codes = try throughProxy({ p in
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            p.arguments = ["-p", prefix, "-c", w.path("nginx.conf")]
        }, base: "https://127.0.0.1:\(port)", paths: ["/s/\(token)", "/s/\(token)/enps/9", "/s/\(token)?x=1"], insecure: true)
        #expect(codes == ["200", "200", "200"], "the page through nginx: \(codes)")
        let log = try String(contentsOfFile: w.path("nginx-access.log"), encoding: .utf8)
        #expect(log.contains("\"GET /s/redacted\" 200") && log.contains("/s/redacted/enps/9"), "\(log.prefix(600))")
        #expect(!log.contains(token) && !log.contains(String(token.prefix(16))), "the token is in nginx's log")
    }

    @Test func theSystemdUnitsVerify() throws {
        let w = try Workspace()
        defer { w.remove() }
        let units = try Self.readmeBlocks("ini").filter { $0.hasPrefix("# /etc/systemd/system/") }
        #expect(units.count == 3)
        var files: [String] = []
        for unit in units {
            let name = String(unit.prefix { $0 != "\n" }.split(separator: "/").last!)
            try w.write(name, unit.replacingOccurrences(of: "/usr/local/bin/pulse", with: try Binary.pulse().path))
            files.append(w.path(name))
        }
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        verify.arguments = ["verify"] + files
        let err = Pipe()
        verify.standardError = err
        verify.standardOutput = FileHandle.nullDevice
        try verify.run()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0 && !said.contains("Unknown"), "\(said)")
    }
}
