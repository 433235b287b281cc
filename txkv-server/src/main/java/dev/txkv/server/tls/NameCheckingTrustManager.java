package dev.txkv.server.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts what its delegate trusts, and only certificates whose subject common name begins with
 * a prefix ({@code txkv-node:} for members), in both directions: a client certificate signed by
 * the same CA cannot join a Raft group or call a server as a member.
 */
public final class NameCheckingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final String prefix;

    NameCheckingTrustManager(X509ExtendedTrustManager delegate, String prefix) {
        this.delegate = delegate;
        this.prefix = prefix;
    }

    /** The subject's common name, or null when it has none. */
    public static String commonName(X509Certificate c) {
        try {
            for (Rdn rdn : new LdapName(c.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    private void checkName(X509Certificate[] chain, String side) throws CertificateException {
        String cn = chain == null || chain.length == 0 ? null : commonName(chain[0]);
        if (cn == null || !cn.startsWith(prefix)) {
            Audit.event("peer_refused", "side", side, "subject",
                    chain == null || chain.length == 0 ? "" : chain[0].getSubjectX500Principal().getName(),
                    "reason", "not a member certificate");
            throw new CertificateException("The certificate's common name " + (cn == null ? "(none)" : "'" + cn + "'")
                    + " does not begin with '" + prefix + "': not a member of this cluster");
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
        checkName(chain, "client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
        checkName(chain, "client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
        checkName(chain, "client");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, authType);
        checkName(chain, "server");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, socket);
        checkName(chain, "server");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate.checkServerTrusted(chain, authType, engine);
        checkName(chain, "server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
