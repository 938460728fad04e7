import NIOSSL
import QRNG

extension RandomnessService {
    /// A certificate chain and its private key, in PEM files, and the CA that client certificates must chain to.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String
        /// With a CA (PEM, one or more certificates), every client must present a certificate it signed: mutual
        /// TLS, the certificate's subject then naming the client (``ClientIdentity``).
        public var clientCA: String?

        public init(certificateChain: String, privateKey: String, clientCA: String? = nil) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.clientCA = clientCA
        }

        /// The server's TLS settings: TLS 1.2 or later, HTTP/2 and HTTP/1.1 offered by ALPN; with a client CA, a
        /// handshake without a valid certificate from it (missing, expired, not yet valid, another CA's) fails.
        func serverConfiguration() throws(QRNGError) -> TLSConfiguration {
            let chain = try Self.certificates(in: certificateChain, option: "--tls-cert")
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
            } catch {
                throw QRNGError(.invalidInput, "cannot read the private key: \(error)",
                                context: .init(file: privateKey, field: "--tls-key"))
            }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            if let clientCA {
                // Server side, verification means: ask for a certificate, require one, and check its chain and
                // validity dates against these roots only (not the system's).
                configuration.trustRoots = .certificates(try Self.certificates(in: clientCA, option: "--client-ca"))
                configuration.certificateVerification = .noHostnameVerification
                configuration.sendCANameList = true
            }
            return configuration
        }

        private static func certificates(in file: String, option: String) throws(QRNGError) -> [NIOSSLCertificate] {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(file)
            } catch {
                throw QRNGError(.invalidInput, "cannot read the certificates: \(error)", context: .init(file: file, field: option))
            }
            guard !certificates.isEmpty else {
                throw QRNGError(.invalidInput, "no PEM certificate in the file", context: .init(file: file, field: option))
            }
            return certificates
        }
    }
}
