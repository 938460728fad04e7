#ifndef CQRNG_OPENSSL_SHIM_H
#define CQRNG_OPENSSL_SHIM_H

// The parts of libcrypto qrng uses: secure zeroing, SHA-256 through the EVP
// digest interface, and the error queue. Swift calls them directly; no C
// wrapper functions are needed.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#endif
