#include "sim/auth.hpp"

#include "core/json_writer.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <simdjson.h>

#include <random>
#include <stdexcept>

namespace sfbridge::sim {
namespace {

response oauth_error(std::string_view error, std::string_view description) {
    std::string body;
    json::writer w(body);
    w.begin_object().member("error", error).member("error_description", description).end_object();
    return json_response(http::status::bad_request, std::move(body));
}

std::string form_value(const std::map<std::string, std::string>& form, const char* key) {
    auto it = form.find(key);
    return it == form.end() ? std::string() : it->second;
}

std::string base64(const unsigned char* data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

} // namespace

std::string base64url_encode(std::string_view data) {
    std::string s = base64(reinterpret_cast<const unsigned char*>(data.data()), data.size());
    for (char& c : s)
        c = c == '+' ? '-' : (c == '/' ? '_' : c);
    while (!s.empty() && s.back() == '=')
        s.pop_back();
    return s;
}

std::optional<std::string> base64url_decode(std::string_view data) {
    std::string s(data);
    for (char& c : s) {
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!std::isalnum(static_cast<unsigned char>(c)))
            return std::nullopt;
    }
    const std::size_t pad = (4 - s.size() % 4) % 4;
    if (pad == 3)
        return std::nullopt;
    s.append(pad, '=');
    std::string out(s.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()),
                                  static_cast<int>(s.size()));
    if (n < 0)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

struct auth::key {
    EVP_PKEY* pkey = nullptr;
    ~key() { EVP_PKEY_free(pkey); }
};

auth::auth(auth_config cfg, std::string org_id, std::string user_id, clock_ms now)
    : cfg_(std::move(cfg)), org_id_(std::move(org_id)), user_id_(std::move(user_id)),
      now_(std::move(now)) {
    if (!cfg_.jwt_public_key_pem.empty()) {
        // A certificate (as Salesforce stores for the connected app) or a bare public key.
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(
            BIO_new_mem_buf(cfg_.jwt_public_key_pem.data(),
                            static_cast<int>(cfg_.jwt_public_key_pem.size())),
            &BIO_free);
        jwt_key_ = std::make_unique<key>();
        if (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
            jwt_key_->pkey = X509_get_pubkey(cert);
            X509_free(cert);
        } else {
            BIO_reset(bio.get());
            jwt_key_->pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
        }
        if (!jwt_key_->pkey)
            throw std::runtime_error("sfsim: the JWT certificate is neither a PEM certificate "
                                     "nor a PEM public key");
    }
}

auth::~auth() = default;

std::string auth::random_token(std::size_t n) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    std::random_device rd;
    std::string s;
    s.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        s.push_back(alphabet[rd() % 64]);
    return s;
}

std::string auth::mint_access_token() {
    std::string t = org_id_.substr(0, 15) + "!" + random_token(96);
    access_tokens_[t] = now_() + cfg_.token_lifetime.count();
    return t;
}

std::string auth::mint_refresh_token() {
    std::string t = "5Aep" + random_token(80);
    refresh_tokens_[t] = true;
    return t;
}

void auth::expire_all_access_tokens() {
    access_tokens_.clear();
}

auth::check auth::verify(std::string_view token) {
    if (token.empty())
        return check::missing;
    auto it = access_tokens_.find(std::string(token));
    if (it == access_tokens_.end())
        return check::invalid;
    if (it->second <= now_()) {
        access_tokens_.erase(it);
        return check::invalid;
    }
    return check::valid;
}

response auth::success(const std::string& instance_url, bool with_refresh_token) {
    const std::string token = mint_access_token();
    const std::string issued = std::to_string(now_());
    const std::string id = "https://login.salesforce.com/id/" + org_id_ + "/" + user_id_;
    // "Base64-encoded HMAC-SHA256 signature signed with the consumer's private key containing
    // the concatenated ID and issued_at".
    const std::string signed_text = id + issued;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), cfg_.client_secret.data(), static_cast<int>(cfg_.client_secret.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac,
         &mac_len);
    std::string body;
    json::writer w(body);
    w.begin_object();
    w.member("access_token", token);
    if (with_refresh_token)
        w.member("refresh_token", mint_refresh_token());
    w.member("signature", base64(mac, mac_len));
    w.member("scope", "api refresh_token");
    w.member("instance_url", instance_url);
    w.member("id", id);
    w.member("token_type", "Bearer");
    w.member("issued_at", issued);
    w.end_object();
    return json_response(http::status::ok, std::move(body));
}

response auth::token_endpoint(const request& req, const std::string& instance_url) {
    if (req.method() != http::verb::post)
        return oauth_error("invalid_request", "must use HTTP POST");
    const auto form = parse_form(req.body());
    auto grant = form.find("grant_type");
    if (grant == form.end() || grant->second.empty())
        return oauth_error("invalid_request", "grant type is missing");
    if (grant->second == "password")
        return grant_password(form, instance_url);
    if (grant->second == "refresh_token")
        return grant_refresh(form, instance_url);
    if (grant->second == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        return grant_jwt(form, instance_url);
    return oauth_error("unsupported_grant_type", "grant type not supported");
}

response auth::grant_password(const std::map<std::string, std::string>& form,
                              const std::string& url) {
    auto get = [&](const char* k) { return form_value(form, k); };
    if (get("client_id") != cfg_.client_id)
        return oauth_error("invalid_client_id", "client identifier invalid");
    if (get("client_secret") != cfg_.client_secret)
        return oauth_error("invalid_client", "invalid client credentials");
    if (get("username") != cfg_.username || get("password") != cfg_.password + cfg_.security_token)
        return oauth_error("invalid_grant", "authentication failure");
    return success(url, false);
}

response auth::grant_refresh(const std::map<std::string, std::string>& form,
                             const std::string& url) {
    auto get = [&](const char* k) { return form_value(form, k); };
    if (get("client_id") != cfg_.client_id)
        return oauth_error("invalid_client_id", "client identifier invalid");
    if (form.count("client_secret") && get("client_secret") != cfg_.client_secret)
        return oauth_error("invalid_client", "invalid client credentials");
    if (!refresh_tokens_.count(get("refresh_token")))
        return oauth_error("invalid_grant", "expired access/refresh token");
    return success(url, false);
}

response auth::grant_jwt(const std::map<std::string, std::string>& form, const std::string& url) {
    auto it = form.find("assertion");
    if (it == form.end())
        return oauth_error("invalid_request", "assertion is missing");
    const std::string& jwt = it->second;
    const std::size_t d1 = jwt.find('.');
    const std::size_t d2 = d1 == std::string::npos ? d1 : jwt.find('.', d1 + 1);
    if (d2 == std::string::npos)
        return oauth_error("invalid_grant", "invalid assertion");
    const auto header = base64url_decode(std::string_view(jwt).substr(0, d1));
    const auto claims = base64url_decode(std::string_view(jwt).substr(d1 + 1, d2 - d1 - 1));
    const auto sig = base64url_decode(std::string_view(jwt).substr(d2 + 1));
    if (!header || !claims || !sig)
        return oauth_error("invalid_grant", "invalid assertion");

    namespace od = simdjson::ondemand;
    od::parser parser;
    std::string alg;
    {
        simdjson::padded_string h(*header);
        od::document doc;
        std::string_view a;
        if (parser.iterate(h).get(doc) || doc["alg"].get_string().get(a))
            return oauth_error("invalid_grant", "invalid assertion");
        alg = std::string(a);
    }
    if (alg != "RS256")
        return oauth_error("invalid_grant", "invalid assertion: only RS256 is supported");
    if (!jwt_key_)
        return oauth_error("invalid_grant", "no certificate is configured for this consumer");

    // The signature covers "<header>.<claims>" as sent.
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    const std::string_view signed_part = std::string_view(jwt).substr(0, d2);
    const bool valid =
        ctx &&
        EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, jwt_key_->pkey) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                         sig->size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                         signed_part.size()) == 1;
    if (!valid)
        return oauth_error("invalid_grant", "invalid assertion: signature verification failed");

    std::string iss, sub, aud;
    std::int64_t exp = 0;
    {
        simdjson::padded_string c(*claims);
        od::document doc;
        od::object obj;
        if (parser.iterate(c).get(doc) || doc.get_object().get(obj))
            return oauth_error("invalid_grant", "invalid assertion");
        for (auto m : obj) {
            std::string_view k, v;
            if (m.unescaped_key().get(k))
                continue;
            if (k == "exp") {
                if (m.value().get_int64().get(exp))
                    return oauth_error("invalid_grant", "invalid assertion: exp is not a number");
            } else if (!m.value().get_string().get(v)) {
                if (k == "iss")
                    iss = std::string(v);
                else if (k == "sub")
                    sub = std::string(v);
                else if (k == "aud")
                    aud = std::string(v);
            }
        }
    }
    if (iss != cfg_.client_id)
        return oauth_error("invalid_client_id", "client identifier invalid");
    if (aud != "https://login.salesforce.com" && aud != "https://test.salesforce.com" && aud != url)
        return oauth_error("invalid_grant", "audience is invalid");
    // Salesforce allows three minutes of clock skew.
    if (exp * 1000 + 180000 < now_())
        return oauth_error("invalid_grant", "expired authorization code");
    if (sub != cfg_.username)
        return oauth_error("invalid_grant", "user hasn't approved this consumer");
    return success(url, false);
}

} // namespace sfbridge::sim
