/*
 * A software "security key" for tests: an OpenSSH security key provider (the middleware API of
 * OpenSSH's sk-api.h, version 0x000a0000) that makes ed25519-sk and ecdsa-sk (P-256) keys and
 * signs with them in software, so that stock ssh-keygen and ssh make real FIDO logins without a
 * device.
 *
 *   ssh-keygen -t ed25519-sk -w /path/libsk-test-provider.so -N "" -f key
 *   ssh -o SecurityKeyProvider=/path/libsk-test-provider.so -i key ...
 *
 * The test decides which flags a signature carries: SALLYPORT_TEST_SK_FLAGS (read at every
 * sk_sign, so it reaches the ssh-sk-helper that ssh starts) is the flags byte to sign with, e.g.
 * 0x01 (user present), 0x05 (present and verified), 0x00 (neither). Unset, the key signs with the
 * presence and verification bits the key was enrolled to require, as a device that was touched
 * (and, for a verify-required key, given its PIN) would.
 *
 * NOT A SECURITY KEY: the private key travels inside the key handle, which ssh-keygen writes to
 * the private key file. Test use only.
 *
 * What the authenticator signs, and how OpenSSH and servers check it (WebAuthn / CTAP2
 * assertion, as OpenSSH uses it):
 *   message = SHA-256(application) || flags || counter (uint32, big-endian) || SHA-256(data)
 * ed25519 signs the message itself; ECDSA P-256 signs its SHA-256 digest and hands r and s back
 * separately.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* ---- the contract of sk-api.h, API version 0x000a0000 ------------------------------------- */

#define SK_API_VERSION 0x000a0000

#define SK_FLAG_USER_PRESENCE 0x01
#define SK_FLAG_USER_VERIFICATION 0x04
#define SK_FLAG_RESIDENT_KEY 0x20

#define SK_ALG_ECDSA 0x00
#define SK_ALG_ED25519 0x01

#define SK_ERR_GENERAL (-1)
#define SK_ERR_UNSUPPORTED (-2)

struct sk_enroll_response {
	uint8_t flags;
	uint8_t *public_key;
	size_t public_key_len;
	uint8_t *key_handle;
	size_t key_handle_len;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *attestation_cert;
	size_t attestation_cert_len;
	uint8_t *authdata;
	size_t authdata_len;
};

struct sk_sign_response {
	uint8_t flags;
	uint32_t counter;
	uint8_t *sig_r;
	size_t sig_r_len;
	uint8_t *sig_s;
	size_t sig_s_len;
};

struct sk_resident_key {
	uint32_t alg;
	size_t slot;
	char *application;
	struct sk_enroll_response key;
	uint8_t flags;
	uint8_t *user_id;
	size_t user_id_len;
};

struct sk_option {
	char *name;
	char *value;
	uint8_t required;
};

#define EXPORT __attribute__((visibility("default")))

EXPORT uint32_t sk_api_version(void);
EXPORT int sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response);
EXPORT int sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response);
EXPORT int sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks);

/* ---- our key handle: "SPSK" || alg || DER private key ---------------------------------------- */

static const uint8_t HANDLE_MAGIC[4] = { 'S', 'P', 'S', 'K' };
#define HANDLE_HEADER (sizeof(HANDLE_MAGIC) + 1)

/* A device's signature counter. Here it starts again in every process (ssh starts a new helper
 * for each signature); neither sallyport nor OpenSSH's sshd checks it. */
static uint32_t next_counter = 1;

static int
known_alg(uint32_t alg)
{
	return alg == SK_ALG_ECDSA || alg == SK_ALG_ED25519;
}

/* Only "device" and "user" exist in OpenSSH's own middleware; a required option we cannot honour
 * must fail the call rather than be ignored. */
static int
options_supported(struct sk_option **options)
{
	if (options == NULL)
		return 1;
	for (size_t i = 0; options[i] != NULL; i++) {
		if (options[i]->required && strcmp(options[i]->name, "user") != 0)
			return 0;
	}
	return 1;
}

/* A heap copy; never NULL on success, even for zero bytes (the caller frees every field). */
static uint8_t *
copy_bytes(const uint8_t *p, size_t len)
{
	uint8_t *out = malloc(len == 0 ? 1 : len);
	if (out != NULL && len > 0)
		memcpy(out, p, len);
	return out;
}

static EVP_PKEY *
generate(uint32_t alg)
{
	if (alg == SK_ALG_ED25519)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* ed25519: the 32 raw bytes; P-256: the uncompressed point 0x04 || X || Y. */
static int
public_key_bytes(uint32_t alg, EVP_PKEY *pkey, uint8_t **out, size_t *out_len)
{
	size_t len = 0;
	if (alg == SK_ALG_ED25519) {
		if (EVP_PKEY_get_raw_public_key(pkey, NULL, &len) != 1 || len != 32)
			return -1;
		if ((*out = malloc(len)) == NULL)
			return -1;
		if (EVP_PKEY_get_raw_public_key(pkey, *out, &len) != 1)
			return -1;
	} else {
		if (EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		    "uncompressed") != 1)
			return -1;
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0, &len) != 1
		    || len != 65)
			return -1;
		if ((*out = malloc(len)) == NULL)
			return -1;
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, *out, len, &len) != 1)
			return -1;
	}
	*out_len = len;
	return 0;
}

static int
make_handle(uint32_t alg, EVP_PKEY *pkey, uint8_t **out, size_t *out_len)
{
	int der_len = i2d_PrivateKey(pkey, NULL);
	if (der_len <= 0)
		return -1;
	uint8_t *handle = malloc(HANDLE_HEADER + (size_t)der_len);
	if (handle == NULL)
		return -1;
	memcpy(handle, HANDLE_MAGIC, sizeof(HANDLE_MAGIC));
	handle[sizeof(HANDLE_MAGIC)] = (uint8_t)alg;
	uint8_t *p = handle + HANDLE_HEADER;
	if (i2d_PrivateKey(pkey, &p) != der_len) {
		OPENSSL_cleanse(handle, HANDLE_HEADER + (size_t)der_len);
		free(handle);
		return -1;
	}
	*out = handle;
	*out_len = HANDLE_HEADER + (size_t)der_len;
	return 0;
}

static EVP_PKEY *
key_from_handle(uint32_t alg, const uint8_t *handle, size_t len)
{
	if (handle == NULL || len <= HANDLE_HEADER || memcmp(handle, HANDLE_MAGIC, sizeof(HANDLE_MAGIC)) != 0
	    || handle[sizeof(HANDLE_MAGIC)] != alg)
		return NULL;
	const uint8_t *p = handle + HANDLE_HEADER;
	EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)(len - HANDLE_HEADER));
	if (pkey == NULL)
		return NULL;
	int want = alg == SK_ALG_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_EC;
	if (EVP_PKEY_get_base_id(pkey) != want) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static void
free_enroll_response(struct sk_enroll_response *r)
{
	if (r == NULL)
		return;
	free(r->public_key);
	if (r->key_handle != NULL)
		OPENSSL_cleanse(r->key_handle, r->key_handle_len);
	free(r->key_handle);
	free(r->signature);
	free(r->attestation_cert);
	free(r->authdata);
	free(r);
}

static void
free_sign_response(struct sk_sign_response *r)
{
	if (r == NULL)
		return;
	free(r->sig_r);
	free(r->sig_s);
	free(r);
}

/* The flags byte the test asked for, else the bits the key was enrolled to require. */
static uint8_t
signing_flags(uint8_t key_flags)
{
	const char *forced = getenv("SALLYPORT_TEST_SK_FLAGS");
	if (forced != NULL && *forced != '\0') {
		char *end = NULL;
		unsigned long v = strtoul(forced, &end, 0);
		if (end != NULL && *end == '\0' && v <= 0xff)
			return (uint8_t)v;
	}
	return key_flags & (SK_FLAG_USER_PRESENCE | SK_FLAG_USER_VERIFICATION);
}

/* ---- the API --------------------------------------------------------------------------------- */

uint32_t
sk_api_version(void)
{
	return SK_API_VERSION;
}

int
sk_enroll(uint32_t alg, const uint8_t *challenge, size_t challenge_len,
    const char *application, uint8_t flags, const char *pin,
    struct sk_option **options, struct sk_enroll_response **enroll_response)
{
	(void)challenge;
	(void)challenge_len;
	(void)pin;
	if (enroll_response == NULL || application == NULL)
		return SK_ERR_GENERAL;
	*enroll_response = NULL;
	if (!known_alg(alg) || !options_supported(options) || (flags & SK_FLAG_RESIDENT_KEY) != 0)
		return SK_ERR_UNSUPPORTED;

	int ret = SK_ERR_GENERAL;
	struct sk_enroll_response *r = calloc(1, sizeof(*r));
	EVP_PKEY *pkey = generate(alg);
	if (r == NULL || pkey == NULL)
		goto out;
	r->flags = flags;
	if (public_key_bytes(alg, pkey, &r->public_key, &r->public_key_len) != 0
	    || make_handle(alg, pkey, &r->key_handle, &r->key_handle_len) != 0)
		goto out;
	/* No attestation: ssh-keygen keeps these only when asked to write attestation data. */
	if ((r->signature = copy_bytes(NULL, 0)) == NULL
	    || (r->attestation_cert = copy_bytes(NULL, 0)) == NULL
	    || (r->authdata = copy_bytes(NULL, 0)) == NULL)
		goto out;
	*enroll_response = r;
	r = NULL;
	ret = 0;
out:
	EVP_PKEY_free(pkey);
	free_enroll_response(r);
	return ret;
}

static int
sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

static int
split_ecdsa(const uint8_t *der, size_t der_len, struct sk_sign_response *r)
{
	const uint8_t *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL)
		return -1;
	int ret = -1;
	const BIGNUM *sr = NULL, *ss = NULL;
	ECDSA_SIG_get0(sig, &sr, &ss);
	r->sig_r_len = (size_t)BN_num_bytes(sr);
	r->sig_s_len = (size_t)BN_num_bytes(ss);
	if ((r->sig_r = malloc(r->sig_r_len == 0 ? 1 : r->sig_r_len)) == NULL
	    || (r->sig_s = malloc(r->sig_s_len == 0 ? 1 : r->sig_s_len)) == NULL)
		goto out;
	BN_bn2bin(sr, r->sig_r);
	BN_bn2bin(ss, r->sig_s);
	ret = 0;
out:
	ECDSA_SIG_free(sig);
	return ret;
}

int
sk_sign(uint32_t alg, const uint8_t *data, size_t data_len,
    const char *application, const uint8_t *key_handle, size_t key_handle_len,
    uint8_t flags, const char *pin, struct sk_option **options,
    struct sk_sign_response **sign_response)
{
	(void)pin;
	if (sign_response == NULL || application == NULL || (data == NULL && data_len > 0))
		return SK_ERR_GENERAL;
	*sign_response = NULL;
	if (!known_alg(alg) || !options_supported(options))
		return SK_ERR_UNSUPPORTED;

	int ret = SK_ERR_GENERAL;
	struct sk_sign_response *r = calloc(1, sizeof(*r));
	EVP_PKEY *pkey = key_from_handle(alg, key_handle, key_handle_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	/* application hash (32) || flags (1) || counter (4) || client data hash (32) */
	uint8_t message[32 + 1 + 4 + 32];
	if (r == NULL || pkey == NULL || ctx == NULL)
		goto out;

	r->flags = signing_flags(flags);
	r->counter = next_counter++;
	if (sha256((const uint8_t *)application, strlen(application), message) != 0
	    || sha256(data, data_len, message + 37) != 0)
		goto out;
	message[32] = r->flags;
	message[33] = (uint8_t)(r->counter >> 24);
	message[34] = (uint8_t)(r->counter >> 16);
	message[35] = (uint8_t)(r->counter >> 8);
	message[36] = (uint8_t)r->counter;

	const EVP_MD *md = alg == SK_ALG_ED25519 ? NULL : EVP_sha256();
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1
	    || EVP_DigestSign(ctx, NULL, &sig_len, message, sizeof(message)) != 1
	    || (sig = malloc(sig_len)) == NULL
	    || EVP_DigestSign(ctx, sig, &sig_len, message, sizeof(message)) != 1)
		goto out;

	if (alg == SK_ALG_ED25519) {
		if (sig_len != 64)
			goto out;
		r->sig_r = sig;
		r->sig_r_len = sig_len;
		sig = NULL;
	} else if (split_ecdsa(sig, sig_len, r) != 0) {
		goto out;
	}
	*sign_response = r;
	r = NULL;
	ret = 0;
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	free_sign_response(r);
	return ret;
}

int
sk_load_resident_keys(const char *pin, struct sk_option **options,
    struct sk_resident_key ***rks, size_t *nrks)
{
	(void)pin;
	(void)options;
	if (rks == NULL || nrks == NULL)
		return SK_ERR_GENERAL;
	/* This provider never makes resident (discoverable) keys: there are none to list. */
	*rks = NULL;
	*nrks = 0;
	return 0;
}
