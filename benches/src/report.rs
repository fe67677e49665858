//! Aggregating rounds into medians and ratios, and writing the markdown table and the SVG
//! chart.
