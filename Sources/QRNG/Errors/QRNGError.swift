/// The one error type of qrng: bad input, a failing device or syscall, a failed health test, a closed pool.
///
/// Each error carries a ``Code`` a caller can switch on and the context that locates the problem: the file and
/// byte offset, the field or argument, the sample offset, the test, its value and its threshold. Its
/// ``description`` is one line meant for a human, which the command-line tool prints as is.
public struct QRNGError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case invalidArgument, invalidInput, healthTestFailure, poolClosed, endOfInput, systemCall, cancelled
        }
        private let value: Value

        /// An argument or configuration value is out of its range.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// Input data (a file, a stream) is malformed.
        public static let invalidInput = Code(value: .invalidInput)
        /// A health test failed: no output is given until the failure policy allows it.
        public static let healthTestFailure = Code(value: .healthTestFailure)
        /// The pool was closed: its producer stopped, failed or was shut down.
        public static let poolClosed = Code(value: .poolClosed)
        /// The entropy source has no more data.
        public static let endOfInput = Code(value: .endOfInput)
        /// A system call failed; ``QRNGError/Context/errno`` holds its error number.
        public static let systemCall = Code(value: .systemCall)
        /// The waiting task was cancelled.
        public static let cancelled = Code(value: .cancelled)

        public var description: String {
            switch value {
            case .invalidArgument: "invalid argument"
            case .invalidInput: "invalid input"
            case .healthTestFailure: "health test failure"
            case .poolClosed: "pool closed"
            case .endOfInput: "end of input"
            case .systemCall: "system call failed"
            case .cancelled: "cancelled"
            }
        }
    }

    /// Where the failure happened; every field is optional and printed only when set.
    public struct Context: Hashable, Sendable {
        /// The file or path involved.
        public var file: String?
        /// The byte offset in ``file``.
        public var byteOffset: UInt64?
        /// The argument, option, configuration or record field at fault.
        public var field: String?
        /// The offset, counted in samples from the start of the stream, of the sample at fault.
        public var sampleOffset: UInt64?
        /// The health test or monitor that failed.
        public var test: String?
        /// The value the test measured.
        public var value: Double?
        /// The threshold the value crossed.
        public var threshold: Double?
        /// The error number of a failed system call.
        public var errno: Int32?

        public init(
            file: String? = nil, byteOffset: UInt64? = nil, field: String? = nil, sampleOffset: UInt64? = nil,
            test: String? = nil, value: Double? = nil, threshold: Double? = nil, errno: Int32? = nil
        ) {
            self.file = file
            self.byteOffset = byteOffset
            self.field = field
            self.sampleOffset = sampleOffset
            self.test = test
            self.value = value
            self.threshold = threshold
            self.errno = errno
        }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in words.
    public var message: String
    /// Where it went wrong.
    public var context: Context

    public init(_ code: Code, _ message: String, context: Context = Context()) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// An argument out of range, naming the argument.
    public static func invalidArgument(_ field: String, _ message: String) -> QRNGError {
        QRNGError(.invalidArgument, message, context: Context(field: field))
    }

    public var description: String {
        var parts: [String] = []
        if let file = context.file {
            parts.append(context.byteOffset.map { "\(file) at byte \($0)" } ?? file)
        } else if let byteOffset = context.byteOffset {
            parts.append("at byte \(byteOffset)")
        }
        if let field = context.field { parts.append(field) }
        if let test = context.test { parts.append(test) }
        var line = parts.isEmpty ? message : parts.joined(separator: ", ") + ": " + message
        var details: [String] = []
        if let value = context.value { details.append("value \(Self.format(value))") }
        if let threshold = context.threshold { details.append("threshold \(Self.format(threshold))") }
        if let sampleOffset = context.sampleOffset { details.append("sample offset \(sampleOffset)") }
        if let errno = context.errno { details.append("errno \(errno): \(systemErrorMessage(errno))") }
        if !details.isEmpty { line += " (" + details.joined(separator: ", ") + ")" }
        return "\(code): \(line)"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
