import Hummingbird
import NIOCore
import NIOSSL
import X509

/// Who is asking: the subject of the client's verified TLS certificate, or, without mutual TLS, its address.
///
/// Every handler gets it through ``ClientRequestContext``; it names the client in the access log, in the
/// per-client metrics and, later, in quotas.
public struct ClientIdentity: Sendable, Hashable, CustomStringConvertible {
    /// Where the name comes from.
    public enum Kind: String, Sendable, Hashable {
        /// The subject common name (CN) of a client certificate the server verified against `--client-ca`, or,
        /// without a CN, its first DNS subject alternative name.
        case certificate
        /// The client's IP address: there is no certificate to say more.
        case address
    }

    public let kind: Kind
    public let name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind.rawValue):\(name)" }

    /// The identity of the client on `channel`: an HTTP/1 request's channel is the connection, whose TLS handler
    /// holds the certificate; an HTTP/2 stream's is a child of the connection.
    static func of(_ channel: any Channel) async -> ClientIdentity {
        for connection in [channel, channel.parent].compactMap({ $0 }) {
            if let certificate = try? await connection.nioSSL_peerCertificate().get(),
                let name = subjectName(of: certificate)
            {
                return ClientIdentity(kind: .certificate, name: name)
            }
        }
        let address = (channel.remoteAddress ?? channel.parent?.remoteAddress)?.ipAddress ?? "unknown"
        return ClientIdentity(kind: .address, name: address)
    }

    /// The certificate's last subject CN, else its first DNS subject alternative name.
    static func subjectName(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        for relativeName in parsed.subject.reversed() {
            for attribute in relativeName.reversed() where attribute.type == .RDNAttributeType.commonName {
                if let name = String(attribute.value) { return name }
            }
        }
        if let names = try? parsed.extensions.subjectAlternativeNames {
            for name in names {
                if case .dnsName(let dns) = name { return dns }
            }
        }
        return nil
    }
}

/// The request context of the service: Hummingbird's core context and the channel, from which the client's
/// identity is read.
public struct ClientRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Who sent the request.
    public func client() async -> ClientIdentity { await ClientIdentity.of(channel) }
}
