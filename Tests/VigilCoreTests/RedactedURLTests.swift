import XCTest
import VigilCore

final class RedactedURLTests: XCTestCase {
    func testCredentialsAreHiddenAndTheRestKept() {
        XCTAssertEqual(redactedURL("https://gw:s3cret@ingest.example.net/v1"), "https://<redacted>@ingest.example.net/v1")
        XCTAssertEqual(redactedURL("https://ingest.example.net/v1?site=north&access_token=zz9&apiKey=k1&sig=x"),
                       "https://ingest.example.net/v1?site=north&access_token=<redacted>&apiKey=<redacted>&sig=<redacted>")
        XCTAssertEqual(redactedURL("http://tb.example.net:8080/api/v1/A1B2C3/telemetry"), "http://tb.example.net:8080/api/v1/<redacted>/telemetry")
        XCTAssertEqual(redactedURL("https://ingest.example.net/v1/batches"), "https://ingest.example.net/v1/batches")
    }
}
