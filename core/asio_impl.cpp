// The one translation unit that holds the compiled parts of Asio, Asio's SSL layer and Beast.
// Every other file sees only declarations (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION are set on the sfbridge_asio target).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
