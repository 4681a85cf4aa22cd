<?php
/*
 * Plugin Name: woozoom delivery
 * Description: Lets WooCommerce deliver webhooks to the woozoom container, a private address WordPress otherwise refuses.
 */
add_filter( 'http_request_host_is_external', fn( $external, $host ) => $external || 'woozoom' === $host, 10, 2 );
