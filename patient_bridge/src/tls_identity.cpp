#include "tandem/bridge/tls_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace tandem::bridge {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
// A memory BIO frees its buffer without clearing it, so the one holding the key PEM is
// cleansed first.
struct SecretBioFree {
    void operator()(BIO* p) const {
        char* data = nullptr;
        const long len = BIO_get_mem_data(p, &data);
        if (data != nullptr && len > 0) OPENSSL_cleanse(data, static_cast<std::size_t>(len));
        BIO_free(p);
    }
};
struct ExtFree { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };

bool is_ip_literal(const std::string& host) {
    // a2i_IPADDRESS accepts exactly the forms OpenSSL's "IP:" SAN syntax accepts.
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
    const bool ok = ip != nullptr;
    ASN1_OCTET_STRING_free(ip);
    return ok;
}

// Writes bytes to a new file with the given mode, failing if it exists: O_EXCL rather than
// chmod after writing, so the key is never readable by others even for a moment.
Result<void> write_new_file(const std::filesystem::path& file, std::string_view bytes, mode_t mode) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) return fail(ErrorCode::conflict, "file exists; not overwriting", file.string());
        return fail(ErrorCode::io, "cannot create file", file.string());
    }
    ::fchmod(fd, mode);  // the umask may have narrowed a 0644 certificate; the key stays 0600
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
            ::close(fd);
            return fail(ErrorCode::io, "write failed", file.string());
        }
        done += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) return fail(ErrorCode::io, "fsync failed", file.string());
    return {};
}

// A view of a memory BIO's bytes: the key PEM is written straight from OpenSSL's buffer
// (cleansed by SecretBioFree) rather than copied into a std::string.
std::string_view bio_bytes(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string_view(data, static_cast<std::size_t>(len));
}

}  // namespace

Result<void> create_self_signed_identity(const std::filesystem::path& cert_file,
                                         const std::filesystem::path& key_file,
                                         const std::vector<std::string>& hosts, int valid_days) {
    if (hosts.empty()) return fail(ErrorCode::invalid_argument, "at least one host name is needed", "hosts");
    std::error_code ec;
    if (std::filesystem::exists(cert_file, ec))
        return fail(ErrorCode::conflict, "file exists; not overwriting", cert_file.string());
    if (std::filesystem::exists(key_file, ec))
        return fail(ErrorCode::conflict, "file exists; not overwriting", key_file.string());

    std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
    if (!key) return fail(ErrorCode::internal, "EC key generation failed");

    std::unique_ptr<X509, X509Free> cert(X509_new());
    if (!cert) return fail(ErrorCode::internal, "X509_new failed");
    X509_set_version(cert.get(), 2);  // v3, needed for extensions
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) return fail(ErrorCode::internal, "RAND_bytes failed");
    serial[0] &= 0x7f;  // a positive INTEGER
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);  // tolerate small clock skew
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 60 * 60);
    X509_set_pubkey(cert.get(), key.get());

    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Tandem bridge"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(hosts.front().c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    std::string san;
    for (const auto& h : hosts) {
        if (h.empty() || h.find_first_of(",\n\r") != std::string::npos)
            return fail(ErrorCode::invalid_argument, "bad host name", "hosts");
        if (!san.empty()) san += ',';
        san += (is_ip_literal(h) ? "IP:" : "DNS:") + h;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::pair<int, std::string> exts[] = {
        {NID_subject_alt_name, san},
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
    };
    for (const auto& [nid, value] : exts) {
        std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
        if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
            return fail(ErrorCode::internal, "cannot add certificate extension");
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return fail(ErrorCode::internal, "signing failed");

    std::unique_ptr<BIO, SecretBioFree> key_bio(BIO_new(BIO_s_mem()));
    std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
    if (!key_bio || !cert_bio || PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1)
        return fail(ErrorCode::internal, "PEM encoding failed");

    if (auto written = write_new_file(key_file, bio_bytes(key_bio.get()), 0600); !written) return written;
    return write_new_file(cert_file, bio_bytes(cert_bio.get()), 0644);
}

Result<std::string> certificate_fingerprint(const std::filesystem::path& cert_file) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_file(cert_file.c_str(), "r"));
    if (!bio) return fail(ErrorCode::io, "cannot read certificate", cert_file.string());
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) return fail(ErrorCode::parse, "not a PEM certificate", cert_file.string());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) return fail(ErrorCode::internal, "digest failed");
    std::string out;
    char hex[4];
    for (unsigned i = 0; i < len; ++i) {
        std::snprintf(hex, sizeof hex, i == 0 ? "%02X" : ":%02X", md[i]);
        out += hex;
    }
    return out;
}

}  // namespace tandem::bridge
