#ifndef PULSE_CCURL_SHIM_H
#define PULSE_CCURL_SHIM_H
#include <curl/curl.h>

// Swift cannot call the variadic curl_easy_setopt / curl_easy_getinfo: one typed
// wrapper per kind of argument.
static inline CURLcode pulse_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pulse_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pulse_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pulse_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*pulse_curl_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);
static inline CURLcode pulse_curl_setopt_read(CURL *h, pulse_curl_read_callback f) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }

typedef int (*pulse_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userptr);
static inline CURLcode pulse_curl_setopt_debug(CURL *h, pulse_curl_debug_callback f) { return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, f); }

static inline CURLcode pulse_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
#endif
