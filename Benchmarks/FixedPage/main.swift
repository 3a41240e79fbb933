// The reference for the answer-page benchmark: a minimal Hummingbird server that
// returns one fixed page of about the survey page's size, with no database behind it.
// Usage: pulse-bench-fixed-page PORT BYTES
import Foundation
import Hummingbird
import Logging

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 8081 : 8081
let size = arguments.count > 2 ? Int(arguments[2]) ?? 6000 : 6000
let page = "<!doctype html><html><body>" + String(repeating: "x", count: max(0, size - 40)) + "</body></html>"
let router = Router()
router.get("/s/:token") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
}
router.post("/s/:token") { request, _ -> Response in
    var request = request
    _ = try await request.collectBody(upTo: 65_536)
    return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
}
var logger = Logger(label: "fixed-page")
logger.logLevel = .warning
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
