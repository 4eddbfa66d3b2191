#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace sfbridge::test {

// A self-signed certificate and its key, written to a temporary directory for the life of the
// object. `alt_names` is a subjectAltName value, e.g. "DNS:localhost,IP:127.0.0.1".
struct self_signed_cert {
    std::filesystem::path dir;
    std::string cert_pem;

    explicit self_signed_cert(const std::string& alt_names = "DNS:localhost,IP:127.0.0.1") {
        static int n = 0;
        dir = std::filesystem::temp_directory_path() /
              ("sfbridge-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
        std::filesystem::create_directories(dir);
        EVP_PKEY* key = EVP_RSA_gen(2048);
        X509* x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), n);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("sfbridge test"), -1, -1,
                                   0);
        X509_set_issuer_name(x, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
        for (const auto& [nid, value] :
             {std::pair{NID_subject_alt_name, alt_names},
              std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
            X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
        }
        X509_sign(x, key, EVP_sha256());
        FILE* kf = std::fopen((dir / "key.pem").c_str(), "w");
        PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(kf);
        FILE* cf = std::fopen((dir / "cert.pem").c_str(), "w");
        PEM_write_X509(cf, x);
        std::fclose(cf);
        BIO* b = BIO_new(BIO_s_mem());
        PEM_write_bio_X509(b, x);
        char* data = nullptr;
        const long len = BIO_get_mem_data(b, &data);
        cert_pem.assign(data, static_cast<std::size_t>(len));
        BIO_free(b);
        X509_free(x);
        EVP_PKEY_free(key);
    }
    ~self_signed_cert() { std::filesystem::remove_all(dir); }
    self_signed_cert(const self_signed_cert&) = delete;
    self_signed_cert& operator=(const self_signed_cert&) = delete;

    [[nodiscard]] std::string cert_file() const { return (dir / "cert.pem").string(); }
    [[nodiscard]] std::string key_file() const { return (dir / "key.pem").string(); }
};

} // namespace sfbridge::test
