export const PAGE = '<html></html>';
