import ArgumentParser
@testable import QRNGCLI
import Testing

@Suite struct ArgumentParsingTests {
    @Test(arguments: [
        ("1000000", 1_000_000), ("0", 0), ("64K", 65_536), ("1M", 1_048_576), ("1m", 1_048_576),
        ("1MB", 1_000_000), ("2KiB", 2048), ("1GiB", 1 << 30), ("3G", 3 << 30), ("5kb", 5000),
    ])
    func byteCounts(text: String, bytes: Int) throws {
        #expect(try parseByteCount(text) == bytes)
    }

    @Test(arguments: ["-5", "", "M", "1X", "1.5M", "99999999999999999999", "9999999999T"])
    func badByteCountsAreRejected(text: String) {
        #expect(throws: ValidationError.self) { try parseByteCount(text) }
    }

    @Test func negativeByteCountSaysSo() {
        #expect {
            try parseByteCount("-5")
        } throws: { ($0 as? ValidationError)?.message.contains("negative") == true }
    }

    static func parseError(_ arguments: [String]) -> String? {
        do {
            _ = try QRNGCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return QRNGCommand.message(for: error)
        }
    }

    @Test func generateRejectsBadArguments() {
        #expect(Self.parseError(["generate", "--bytes", "10"]) == nil)
        #expect(Self.parseError(["generate", "--bytes", "-5"])?.contains("negative") == true)
        #expect(Self.parseError(["generate"]) == nil, "without --bytes, generate writes until its reader leaves")
        #expect(Self.parseError(["generate", "--bytes", "1", "--min-entropy", "17"])?.contains("min-entropy") == true)
        #expect(Self.parseError(["generate", "--bytes", "1", "--min-entropy", "0"])?.contains("min-entropy") == true)
        #expect(Self.parseError(["generate", "--bytes", "1", "--seed", "-3"])?.contains("seed") == true)
        #expect(Self.parseError(["generate", "--bytes", "1", "--alpha", "2^3"])?.contains("--alpha") == true)
        #expect(Self.parseError(["generate", "--bytes", "1", "--extractor", "md5"])?.contains("extractor") == true)
        #expect(Self.parseError(["generate", "--bytes", "1", "--block-bits", "8"])?.contains("block-bits") == true)
    }
}
